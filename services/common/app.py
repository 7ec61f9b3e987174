"""What every FastAPI service of ours gets: a 400 for a path or query string that is not printable text,
one-line 422 details, the failure taxonomy (JSON 503 with ``Retry-After`` for an unavailable dependency, JSON
500 with a request id for a bug: ``services.common.failures``), ``/livez``, Prometheus metrics, ``/metrics``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry

from services.common.failures import RequestIds, install_failure_handler
from services.common.inputs import BoundedBody, ValidRequestLine
from services.common.metrics import instrument


def service_app(
    *,
    title: str,
    version: str,
    description: str,
    service: str,
    routers: list,
    lifespan=None,
    broker: tuple[type[BaseException], ...] = (),
    max_body: int = 1 << 20,
    streamed: tuple[str, ...] = (),
) -> FastAPI:
    """A FastAPI app with ``routers`` mounted, the request-line check (``services.common.inputs``), request
    ids, request metrics, validation errors as ``{"detail": str}``, and the failure taxonomy (``broker``: the
    exception types of an unavailable job queue), and a 413 for a body over ``max_body`` bytes (routes under
    the ``streamed`` path prefixes bound their own bodies). ``lifespan``: an optional async context manager run around
    the app's life."""
    app = FastAPI(title=title, version=version, description=description, lifespan=lifespan)
    app.get("/livez", tags=["ops"])(_livez)
    for router in routers:
        app.include_router(router)
    app.add_middleware(BoundedBody, limit=max_body, streamed=streamed)
    app.add_middleware(ValidRequestLine)  # before ``instrument``: its refusals are counted too
    instrument(app, service, CollectorRegistry())
    app.add_middleware(RequestIds)  # outermost: every answer, refusals included, names its request
    install_failure_handler(app, broker)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in exc.errors()[:20]]
        return JSONResponse(status_code=422, content={"detail": "; ".join(errors) or "invalid request"})

    return app


def _livez() -> dict[str, str]:
    """Liveness: the process answers. It reads no dependency (``/healthz`` is readiness: it can write)."""
    return {"status": "ok"}
