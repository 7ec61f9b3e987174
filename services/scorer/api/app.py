"""The scorer API application."""

from __future__ import annotations

import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from kombu.exceptions import OperationalError as BrokerUnavailable

from services.common.app import service_app
from services.scorer.api.routes import admin, health, leaderboard, quota, submissions, tasks
from services.scorer.catalogue import UnknownTask
from services.scorer.config import ScorerSettings, get_settings
from services.scorer.contract import MAX_BODY_BYTES, SCHEMA_VERSION
from services.scorer.db import crud
from services.scorer.db.migrate import upgrade
from services.scorer.intake import BadPredictions, IdempotencyConflict, QuotaExhausted
from services.scorer.reconcile import reconcile_forever
from services.scorer.runtime import build_runtime


def create_app(settings: ScorerSettings | None = None, migrate: bool = True) -> FastAPI:
    """Build the app; migrates the database to head first (idempotent)."""
    settings = settings or get_settings()
    if migrate:
        upgrade(settings.db_url)
    runtime = build_runtime(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        """The reconciler runs here too: a job whose worker was killed whole is recovered with no worker up."""
        stop = threading.Event()
        args = (settings, runtime.queue.enqueue, stop)
        threading.Thread(target=reconcile_forever, args=args, daemon=True, name="reconciler").start()
        try:
            yield
        finally:
            stop.set()

    app = service_app(
        title="AAR scorer",
        version=SCHEMA_VERSION,
        description="Trains submitted W2S methods in a jail and reports PGR on hidden labels.",
        service="scorer",
        routers=[health.router, tasks.router, submissions.router, leaderboard.router, quota.router, admin.router],
        broker=(BrokerUnavailable,),
        max_body=MAX_BODY_BYTES,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    return app


def install_error_handlers(app: FastAPI) -> None:
    """Map the domain's refusals to ``{"detail": ...}`` answers: 404, 422, 409 and 429 (with ``Retry-After``)."""

    def answer(code: int, exc: Exception, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse(status_code=code, content={"detail": str(exc)}, headers=headers)

    @app.exception_handler(UnknownTask)
    async def _unknown_task(_request: Request, exc: UnknownTask) -> JSONResponse:
        return answer(status.HTTP_404_NOT_FOUND, exc)

    @app.exception_handler(BadPredictions)
    async def _bad_predictions(_request: Request, exc: BadPredictions) -> JSONResponse:
        return answer(status.HTTP_422_UNPROCESSABLE_CONTENT, exc)

    @app.exception_handler(IdempotencyConflict)
    async def _conflict(_request: Request, exc: IdempotencyConflict) -> JSONResponse:
        return answer(status.HTTP_409_CONFLICT, exc)

    @app.exception_handler(QuotaExhausted)
    async def _quota(_request: Request, exc: QuotaExhausted) -> JSONResponse:
        resets = crud.next_reset()
        retry = max(1, int((resets - crud.utcnow()).total_seconds()))
        return JSONResponse(
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            content={"detail": f"{exc}; quota resets at {resets.isoformat()}"},
            headers={"Retry-After": str(retry)},
        )


def serve() -> FastAPI:
    """The app factory of ``aar scorer api`` (the command migrated the database already)."""
    from services.common.logging import configure_json_logging

    configure_json_logging()
    return create_app(migrate=False)
