"""The scorer API application."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry

from services.common.metrics import instrument
from services.scorer.api.routes import admin, health, leaderboard, quota, submissions, tasks
from services.scorer.config import ScorerSettings, get_settings
from services.scorer.contract import SCHEMA_VERSION
from services.scorer.db.migrate import upgrade


def create_app(settings: ScorerSettings | None = None, migrate: bool = True) -> FastAPI:
    """Build the app; migrates the database to head first (idempotent)."""
    settings = settings or get_settings()
    if migrate:
        upgrade(settings.db_url)
    settings.resolved_admin_token()  # create the embedded-default admin token file up front
    app = FastAPI(
        title="AAR scorer",
        version=SCHEMA_VERSION,
        description="Trains submitted W2S methods in a jail and reports PGR on hidden labels.",
    )
    for router in (health.router, tasks.router, submissions.router, leaderboard.router, quota.router, admin.router):
        app.include_router(router)
    instrument(app, "scorer", CollectorRegistry())

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in exc.errors()[:20]]
        return JSONResponse(status_code=422, content={"detail": "; ".join(errors) or "invalid request"})

    return app
