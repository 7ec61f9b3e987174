"""What one dashboard process holds besides its routes: settings, the admin token, the upstream clients of
the scorer and forum, the live-view cache, the campaign folders and the transcript reader."""

from __future__ import annotations

from dataclasses import dataclass

from services.dashboard.campaigns import Campaigns
from services.dashboard.config import DashboardSettings
from services.dashboard.live import LiveView
from services.dashboard.transcripts import Transcripts
from services.dashboard.upstream import Upstreams


@dataclass
class Runtime:
    settings: DashboardSettings
    admin_token: str
    upstreams: Upstreams
    live: LiveView
    campaigns: Campaigns
    transcripts: Transcripts


def build_runtime(settings: DashboardSettings) -> Runtime:
    """Everything from ``settings``; the upstream clients call both services with the admin token."""
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
