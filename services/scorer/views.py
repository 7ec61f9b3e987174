"""Every mapping from database rows to the API's models (``contract.py``)."""

from __future__ import annotations

from datetime import datetime

from services.scorer.config import ScorerSettings
from services.scorer.contract import (
    AuditEvent,
    LeaderboardEntry,
    PublicResult,
    Quota,
    SubmissionAdmin,
    SubmissionPublic,
    TaskPublic,
)
from services.scorer.db.models import AuditLog, Ladder, QuotaCounter, Submission
from w2s.tasks import Task


def submission(sub: Submission, agent: str, admin: bool) -> SubmissionPublic:
    """The owner's view of a submission; ``admin`` adds the full result and the compute time."""
    fields = dict(
        id=sub.id,
        agent=agent,
        task=sub.task,
        kind=sub.kind,
        status=sub.status,
        attempts=sub.attempts,
        created_at=sub.created_at,
        started_at=sub.started_at,
        finished_at=sub.finished_at,
        result=PublicResult(**sub.public_result) if sub.public_result else None,
        flags=list(sub.flags or []),
        error=sub.error,
    )
    if admin:
        return SubmissionAdmin(**fields, full_result=sub.full_result, compute_seconds=sub.compute_seconds or 0.0)
    return SubmissionPublic(**fields)


def task(task: Task, seeds: int, finalised: bool) -> TaskPublic:
    """What an agent may know of a task: its description and the sizes of the splits it works with."""
    sizes = {k: task.sizes[k] for k in ("train_unlabel", "test_public")}
    return TaskPublic(name=task.name, description=task.description, sizes=sizes, seeds=seeds, finalised=finalised)


def leaderboard_entry(ladder: Ladder, agent: str, sub: Submission, show_private: bool) -> LeaderboardEntry:
    """One agent's ladder score, with the private-split PGR of the submission behind it if ``show_private``."""
    private = None
    if show_private and sub.full_result:
        private = sub.full_result["report"]["splits"].get("test_private", {}).get("pgr", {}).get("mean")
    return LeaderboardEntry(
        agent=agent,
        submission_id=sub.id,
        kind=sub.kind,
        pgr=ladder.best,
        flags=list(sub.flags or []),
        private_pgr=private,
    )


def quota(agent: str, usage: QuotaCounter, settings: ScorerSettings, resets_at: datetime) -> Quota:
    """What the agent has used and has left today."""
    return Quota(
        agent=agent,
        submissions_per_day=settings.submissions_per_day,
        submissions_used=usage.submissions,
        submissions_left=max(0, settings.submissions_per_day - usage.submissions),
        compute_seconds_per_day=settings.compute_seconds_per_day,
        compute_seconds_used=usage.compute_seconds,
        compute_seconds_left=max(0.0, settings.compute_seconds_per_day - usage.compute_seconds),
        resets_at=resets_at,
    )


def audit_event(row: AuditLog) -> AuditEvent:
    return AuditEvent(
        id=row.id, at=row.at, agent=row.agent, submission_id=row.submission_id, event=row.event, detail=row.detail or {}
    )
