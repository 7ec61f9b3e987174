"""The failure taxonomy of every service: what a client is told when the fault is not in its request.

- A dependency that is unavailable (the database, the broker, a full disk) is a JSON ``503`` with
  ``Retry-After``: nothing was stored, and the same request (with the same ``Idempotency-Key``) may be sent
  again.
- Anything else unexpected is a bug: a JSON ``500`` naming a request id, which the log line of the error
  carries too. Every response carries its ``X-Request-ID``.

Refusals of the request itself (4xx) are the routes' own; this module only answers what they did not.
"""

from __future__ import annotations

import errno
import logging
import shutil
import uuid
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.orm import Session

log = logging.getLogger("aar.failures")

RETRY_AFTER_S = 5
REQUEST_ID_HEADER = "x-request-id"
FULL_DISK = frozenset({errno.ENOSPC, errno.EDQUOT})
DATABASE_DOWN = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError)


def unavailable(exc: BaseException, broker: tuple[type[BaseException], ...] = ()) -> str | None:
    """What is unavailable when ``exc`` (or an exception it was raised from) was raised, or ``None`` for a bug:
    the database (an outage, a full disk under SQLite), the service's disk, or the broker (``broker``)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in FULL_DISK:
            return "the service's disk is full"
        if isinstance(current, DATABASE_DOWN):
            return "the database is unavailable"
        if broker and isinstance(current, broker):
            return "the job queue is unavailable"
        current = current.__cause__ or current.__context__
    return None


def request_id(request: Request) -> str:
    """The request's id: assigned once per request by ``RequestIds``."""
    return request.scope.setdefault("state", {}).setdefault("request_id", uuid.uuid4().hex)


class RequestIds:
    """Plain ASGI middleware: every HTTP request gets an id (``request.state.request_id``), and every response
    names it in ``X-Request-ID``."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        rid = scope.setdefault("state", {}).setdefault("request_id", uuid.uuid4().hex)

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != REQUEST_ID_HEADER.encode()]
                message = {**message, "headers": [*headers, (REQUEST_ID_HEADER.encode(), rid.encode())]}
            await send(message)

        await self.app(scope, receive, send_with_id)


def install_failure_handler(app: FastAPI, broker: tuple[type[BaseException], ...] = ()) -> None:
    """Answer every exception no route handled: 503 + ``Retry-After`` for an unavailable dependency, JSON
    500 with the request id for a bug; both logged with the request id.

    The dependency errors get their own handlers, so they are answered inside the app and the connection
    stays usable; the catch-all ``Exception`` handler runs in Starlette's outermost middleware, which
    re-raises after answering (the server then closes the connection)."""

    async def _failure(request: Request, exc: Exception) -> JSONResponse:
        rid = request_id(request)
        where = {"request_id": rid, "method": request.method, "path": request.url.path}
        reason = unavailable(exc, broker)
        if reason is not None:
            log.warning("unavailable: %s", reason, extra={**where, "error": type(exc).__name__})
            return JSONResponse(
                status_code=503,
                content={"detail": f"{reason}; nothing was stored, retry later", "request_id": rid},
                headers={"Retry-After": str(RETRY_AFTER_S), REQUEST_ID_HEADER: rid},
            )
        log.error("unhandled error", extra=where, exc_info=exc)
        return JSONResponse(
            status_code=500,
            content={"detail": f"internal error (request id {rid}); it is logged", "request_id": rid},
            headers={REQUEST_ID_HEADER: rid},
        )

    for kind in (*DATABASE_DOWN, OSError, *broker, Exception):
        app.add_exception_handler(kind, _failure)


READY_MIN_FREE_BYTES = 16 * 1024 * 1024


def check_ready(session: Session, home: Path) -> dict[str, str]:
    """Readiness (``/healthz``): the database answers and the service's disk has room for a write; raises the
    failure that ``install_failure_handler`` turns into a 503 otherwise."""
    session.execute(text("SELECT 1"))
    if shutil.disk_usage(home).free < READY_MIN_FREE_BYTES:
        raise OSError(errno.ENOSPC, f"less than {READY_MIN_FREE_BYTES >> 20} MiB free under {home}")
    return {"status": "ok"}
