"""Mappings from the scorer's and the transcripts' models to the dashboard's API models (``contract.py``)."""

from __future__ import annotations

from services.dashboard.contract import (
    AgentSpend,
    CampaignSpend,
    LeaderRow,
    SubmissionRow,
    TaskName,
    TranscriptEntry,
    TranscriptPage,
)
from services.scorer.contract import LeaderboardEntry, SubmissionPublic, TaskPublic


def task_name(task: TaskPublic) -> TaskName:
    return TaskName(name=task.name, description=task.description)


def leader_row(entry: LeaderboardEntry, pgr_full: float | None) -> LeaderRow:
    """A leaderboard entry with the full-precision public PGR of the submission behind it."""
    return LeaderRow(
        agent=entry.agent,
        submission_id=entry.submission_id,
        kind=entry.kind,
        pgr=entry.pgr,
        private_pgr=entry.private_pgr,
        transfer_pgr=entry.transfer_pgr,
        flags=entry.flags,
        review=entry.review,
        pgr_full=pgr_full,
    )


def submission_row(sub: SubmissionPublic) -> SubmissionRow:
    return SubmissionRow(
        id=sub.id,
        agent=sub.agent,
        task=sub.task,
        kind=sub.kind,
        status=sub.status,
        created_at=sub.created_at,
        finished_at=sub.finished_at,
        pgr=sub.result.pgr if sub.result else None,
        flags=sub.flags,
        error=sub.error,
        progress=_progress(sub),
    )


def _progress(sub: SubmissionPublic) -> str | None:
    """``#2`` for the second in the queue, ``3/5`` for a submission on its third of five runs."""
    progress = sub.progress
    if progress is None:
        return None
    if progress.queue_position is not None:
        return f"#{progress.queue_position}"
    return f"{progress.run}/{progress.runs}" if progress.run is not None else None


def campaign_spend(campaign: str, agents: list[AgentSpend]) -> CampaignSpend:
    """Each agent's spend and the campaign's totals, with $/agent-hour when any time was spent."""
    cost, hours = sum(a.cost_usd for a in agents), sum(a.wall_h for a in agents)
    return CampaignSpend(
        campaign=campaign,
        agents=agents,
        cost_usd=cost,
        tokens=sum(a.tokens for a in agents),
        agent_hours=hours,
        usd_per_agent_hour=cost / hours if hours else None,
    )


def transcript_page(
    campaign: str, agent: str, total: int, records: list[tuple[int, dict]], next_before: int | None
) -> TranscriptPage:
    return TranscriptPage(
        campaign=campaign,
        agent=agent,
        total=total,
        next_before=next_before,
        records=[TranscriptEntry(index=i, record=r) for i, r in records],
    )
