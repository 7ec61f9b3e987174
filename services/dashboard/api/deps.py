"""Typed dependencies: the process runtime (settings, upstream clients, campaigns, transcripts) and the
admin-only bearer check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status

from services.common.auth import Credentials
from services.common.tokens import same
from services.dashboard.campaigns import Campaigns
from services.dashboard.config import DashboardSettings
from services.dashboard.contract import NAME_PATTERN
from services.dashboard.live import LiveView
from services.dashboard.transcripts import Transcripts
from services.dashboard.upstream import Upstreams
from workers.agent.campaign.plan import CampaignPlan


@dataclass
class Runtime:
    settings: DashboardSettings
    admin_token: str
    upstreams: Upstreams
    live: LiveView
    campaigns: Campaigns
    transcripts: Transcripts


def runtime_dep(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(runtime_dep)]


def admin_dep(runtime: RuntimeDep, credentials: Credentials) -> None:
    """Only the admin token opens the dashboard's API (an agent token is refused like any other)."""
    if credentials is None or not credentials.credentials:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing bearer token", {"WWW-Authenticate": "Bearer"})
    if not same(credentials.credentials, runtime.admin_token):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "the dashboard accepts only the admin token", {"WWW-Authenticate": "Bearer"}
        )


AdminDep = Depends(admin_dep)


def campaign_dep(runtime: RuntimeDep, campaign_id: Annotated[str, Path(pattern=NAME_PATTERN)]) -> CampaignPlan:
    """The plan of a campaign under ``$AAR_HOME/campaigns`` (404 if there is none)."""
    plan = runtime.campaigns.load(campaign_id)
    if plan is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no campaign {campaign_id!r}")
    return plan


CampaignDep = Annotated[CampaignPlan, Depends(campaign_dep)]
