"""The scorer API application."""

from __future__ import annotations

from fastapi import FastAPI

from services.common.app import service_app
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
    return service_app(
        title="AAR scorer",
        version=SCHEMA_VERSION,
        description="Trains submitted W2S methods in a jail and reports PGR on hidden labels.",
        service="scorer",
        routers=[health.router, tasks.router, submissions.router, leaderboard.router, quota.router, admin.router],
    )


def serve() -> FastAPI:
    """The app factory of ``aar scorer api`` (the command migrated the database already)."""
    from services.common.logging import configure_json_logging

    configure_json_logging()
    return create_app(migrate=False)
