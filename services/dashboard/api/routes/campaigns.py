"""Campaigns: list, start, stop; each one's progress (best verified PGR over time), spend and transcripts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, status

from services.dashboard import views
from services.dashboard.api.deps import AdminDep, CampaignDep, RuntimeDep
from services.dashboard.campaigns import CampaignError
from services.dashboard.contract import (
    NAME_PATTERN,
    CampaignInfo,
    CampaignIntegrity,
    CampaignList,
    CampaignProgress,
    CampaignSpend,
    CampaignStart,
    Problem,
    TranscriptPage,
)
from services.scorer.contract import Inspection
from workers.agent.campaign.report import campaign_attacks, campaign_inspections

router = APIRouter(
    prefix="/v1/campaigns", tags=["campaigns"], dependencies=[AdminDep], responses={401: {"model": Problem}}
)
NotFound: dict[int | str, dict[str, Any]] = {404: {"model": Problem}}


@router.get("", response_model=CampaignList)
def list_campaigns(runtime: RuntimeDep, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> CampaignList:
    """Campaigns under ``$AAR_HOME/campaigns``, newest first."""
    data = [runtime.campaigns.info(plan) for plan in runtime.campaigns.plans(limit)]
    return CampaignList(data=data, count=len(data))


@router.post(
    "",
    response_model=CampaignInfo,
    status_code=status.HTTP_202_ACCEPTED,
    responses={422: {"model": Problem}, 502: {"model": Problem}},
)
def start(runtime: RuntimeDep, body: CampaignStart) -> CampaignInfo:
    """Plan a campaign and start it as a detached ``aar campaign run --no-live --resume ID`` with this stack's
    scorer and forum URLs (pid and command in ``process.json``, output in ``process.log``)."""
    names = {t.name for t in runtime.upstreams.scorer.tasks()}
    try:
        plan = runtime.campaigns.plan(body, names)
    except CampaignError as exc:
        raise HTTPException(422, str(exc)) from None
    return runtime.campaigns.start(plan)


@router.get("/{campaign_id}", response_model=CampaignInfo, responses=NotFound)
def get_campaign(runtime: RuntimeDep, plan: CampaignDep) -> CampaignInfo:
    """One campaign, with the end of its process log."""
    return runtime.campaigns.info(plan, log_chars=4000)


@router.post("/{campaign_id}/stop", response_model=CampaignInfo, responses=NotFound)
def stop(runtime: RuntimeDep, plan: CampaignDep) -> CampaignInfo:
    """Touch the campaign's ``STOP`` file: every agent ends cleanly after its current step."""
    return runtime.campaigns.stop(plan)


@router.get("/{campaign_id}/progress", response_model=CampaignProgress, responses={**NotFound, 502: {"model": Problem}})
def progress(runtime: RuntimeDep, plan: CampaignDep) -> CampaignProgress:
    """Per agent: the best unflagged verified PGR over time, submissions, flags and posts."""
    return runtime.campaigns.progress(plan, runtime.upstreams)


@router.get("/{campaign_id}/spend", response_model=CampaignSpend, responses=NotFound)
def spend(runtime: RuntimeDep, plan: CampaignDep) -> CampaignSpend:
    """Per agent: cost, tokens, calls, hours and $/agent-hour, from the transcripts' running totals."""
    agents = [runtime.transcripts.spend(runtime.campaigns.transcript(plan, a.name), a.name) for a in plan.agents]
    return views.campaign_spend(plan.id, agents)


@router.get("/{campaign_id}/agents/{agent}/transcript", response_model=TranscriptPage, responses=NotFound)
def transcript(
    runtime: RuntimeDep,
    plan: CampaignDep,
    agent: Annotated[str, Path(pattern=NAME_PATTERN)],
    before: Annotated[int | None, Query(ge=0, description="line number; the page ends just before it")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> TranscriptPage:
    """One page of the agent's transcript, newest first."""
    if agent not in {a.name for a in plan.agents}:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"campaign {plan.id} has no agent {agent!r}")
    total, records, next_before = runtime.transcripts.page(runtime.campaigns.transcript(plan, agent), before, limit)
    return views.transcript_page(plan.id, agent, total, records, next_before)


@router.get(
    "/{campaign_id}/integrity", response_model=CampaignIntegrity, responses={**NotFound, 502: {"model": Problem}}
)
def integrity(runtime: RuntimeDep, plan: CampaignDep) -> CampaignIntegrity:
    """The hackers' attacks with the scorer's verdicts, and the inspector's verdict on every agent."""
    attacks = campaign_attacks(plan, runtime.upstreams.scorer)
    inspections, uninspected = campaign_inspections(plan, runtime.upstreams.scorer)
    return CampaignIntegrity(
        campaign=plan.id,
        attacks=attacks,
        findings=sum(a.verdict == "unflagged" for a in attacks),
        inspections=inspections,
        uninspected=uninspected,
    )


@router.post(
    "/{campaign_id}/agents/{agent}/clear", response_model=Inspection, responses={**NotFound, 409: {"model": Problem}}
)
def clear(runtime: RuntimeDep, plan: CampaignDep, agent: Annotated[str, Path(pattern=NAME_PATTERN)]) -> Inspection:
    """Lift the hold an inspector FAIL put on the agent's leaderboard entries (the scorer audits who)."""
    if agent not in {a.name for a in plan.agents}:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"campaign {plan.id} has no agent {agent!r}")
    return runtime.upstreams.scorer.clear_inspection(agent)
