"""The dashboard application: the page (static HTML/JS/CSS, no auth) and the admin-only ``/v1`` JSON API."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.common.app import service_app
from services.dashboard.api.deps import Runtime
from services.dashboard.api.routes import campaigns, forum, health, page, scores
from services.dashboard.campaigns import Campaigns
from services.dashboard.config import DashboardSettings, get_settings
from services.dashboard.contract import SCHEMA_VERSION
from services.dashboard.live import LiveView
from services.dashboard.transcripts import Transcripts
from services.dashboard.upstream import Upstreams, install_error_handlers


def build_runtime(settings: DashboardSettings) -> Runtime:
    token = settings.resolved_admin_token()
    upstreams = Upstreams(settings.scorer_url, settings.forum_url, token, settings.upstream_timeout_s)
    return Runtime(
        settings=settings,
        admin_token=token,
        upstreams=upstreams,
        live=LiveView(upstreams, settings.live_cache_s),
        campaigns=Campaigns(settings),
        transcripts=Transcripts(),
    )


def create_app(settings: DashboardSettings | None = None) -> FastAPI:
    """Build the app (its upstream clients live as long as it does)."""
    runtime = build_runtime(settings or get_settings())
    app = service_app(
        title="AAR dashboard",
        version=SCHEMA_VERSION,
        description="Admin view of a campaign stack: live leaderboard with integrity flags, best PGR over time, "
        "forum browser, transcripts and spend, campaign start and stop.",
        service="dashboard",
        routers=[health.router, page.router, scores.router, forum.router, campaigns.router],
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
