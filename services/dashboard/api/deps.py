"""Typed dependencies: the process runtime (settings, upstream clients, campaigns, transcripts), the caller
from the bearer token (``services.common.auth``; the dashboard knows no agents, so only the admin token
opens its API) and a campaign's plan."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status

from services.common.auth import Caller, Credentials, authenticate, no_agents
from services.dashboard.contract import NAME_PATTERN
from services.dashboard.runtime import Runtime
from workers.agent.campaign.plan import CampaignPlan


async def runtime_dep(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(runtime_dep)]


async def admin_dep(runtime: RuntimeDep, credentials: Credentials) -> Caller:
    """The admin; any other token (an agent's too) is refused with 401."""
    return authenticate(
        credentials, runtime.admin_token, no_agents, refused="the dashboard accepts only the admin token"
    )


AdminDep = Depends(admin_dep)  # every ``/v1`` router's dependency


def campaign_dep(runtime: RuntimeDep, campaign_id: Annotated[str, Path(pattern=NAME_PATTERN)]) -> CampaignPlan:
    """The plan of a campaign under ``$AAR_HOME/campaigns`` (404 if there is none)."""
    plan = runtime.campaigns.load(campaign_id)
    if plan is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no campaign {campaign_id!r}")
    return plan


CampaignDep = Annotated[CampaignPlan, Depends(campaign_dep)]
