"""The dashboard application: the page (static HTML/JS/CSS, no auth) and the admin-only ``/v1`` JSON API."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.common.app import service_app
from services.dashboard.api.routes import campaigns, forum, health, page, scores
from services.dashboard.config import DashboardSettings, get_settings
from services.dashboard.contract import SCHEMA_VERSION
from services.dashboard.runtime import build_runtime
from services.dashboard.upstream import install_error_handlers


def create_app(settings: DashboardSettings | None = None) -> FastAPI:
    """Build the app (its upstream clients live as long as it does)."""
    runtime = build_runtime(settings or get_settings())

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        try:
            yield
        finally:
            runtime.campaigns.shutdown()

    app = service_app(
        title="AAR dashboard",
        version=SCHEMA_VERSION,
        description="Admin view of a campaign stack: live leaderboard with integrity flags, best PGR over time, "
        "forum browser, transcripts and spend, campaign start and stop.",
        service="dashboard",
        routers=[health.router, page.router, scores.router, forum.router, campaigns.router],
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=page.STATIC), name="static")
    return app


def serve() -> FastAPI:
    """The app factory of ``aar dashboard``."""
    from services.common.logging import configure_json_logging

    configure_json_logging()
    return create_app()
