"""Every mapping from database rows to the API's models (``contract.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from services.scorer.config import ScorerSettings
from services.scorer.contract import (
    Attack,
    AuditEvent,
    Inspection,
    LeaderboardEntry,
    Progress,
    PublicResult,
    Quota,
    SubmissionAdmin,
    SubmissionPublic,
    TaskPublic,
    TransferScore,
)
from services.scorer.db.models import Agent, AuditLog, Ladder, QuotaCounter, Submission
from services.scorer.db.models import Inspection as InspectionRow
from w2s.tasks import Task


def progress(sub: Submission, queue: dict[str, int]) -> Progress | None:
    """A queued submission's place in ``queue`` (``crud.queue_positions``), or a running one's run."""
    if sub.status == "queued":
        return Progress(queue_position=queue.get(sub.id))
    if sub.status == "running":
        return Progress(**(sub.progress or {}))
    return None


def submission(
    sub: Submission, agent: str, admin: bool, queue: dict[str, int] | None = None, role: str = "researcher"
) -> SubmissionPublic:
    """The owner's view of a submission, with its progress (``queue``: the queue's places); ``admin`` adds
    the full result, the compute time, the author's ``role`` and what it submitted."""
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
        progress=progress(sub, queue or {}),
    )
    if admin:
        payload = sub.payload or {}
        return SubmissionAdmin(
            **fields,
            full_result=sub.full_result,
            compute_seconds=sub.compute_seconds or 0.0,
            role=role,
            source=payload.get("source"),
            description=str(payload.get("description", "")),
        )
    return SubmissionPublic(**fields)


def task(task: Task, seeds: int, finalised: bool) -> TaskPublic:
    """What an agent may know of a task: its description and the sizes of the splits it works with."""
    sizes = {k: task.sizes[k] for k in ("train_unlabel", "test_public")}
    return TaskPublic(name=task.name, description=task.description, sizes=sizes, seeds=seeds, finalised=finalised)


def transfer_score(sub: Submission) -> TransferScore:
    """A held-out re-score: its PGR over both test splits of the held-out task (no agent saw either)."""
    pgr = ci95 = None
    report = (sub.full_result or {}).get("report")
    if sub.status == "done" and report:
        stats = [report["splits"][name]["pgr"] for name in ("test_public", "test_private")]
        means = [s["mean"] for s in stats if s.get("mean") is not None]
        pgr = float(sum(means) / len(means)) if means else None
        halves = [s["ci95"] for s in stats if s.get("ci95") is not None]
        ci95 = float(max(halves)) if halves else None
    return TransferScore(task=sub.task, status=sub.status, pgr=pgr, ci95=ci95, flags=list(sub.flags or []))


def leaderboard_entry(
    ladder: Ladder,
    agent: str,
    sub: Submission,
    show_private: bool,
    admin: bool = False,
    heldout: Sequence[Submission] = (),
    inspection: InspectionRow | None = None,
) -> LeaderboardEntry:
    """One agent's ladder score, with the private-split PGR and the held-out transfer scores of the
    submission behind it if ``show_private``, and, for ``admin``, the review flags (which read private
    labels) and the inspector's verdict."""
    full = sub.full_result or {}
    private = split_pgr(full, "test_private") if show_private else None
    transfer = [transfer_score(h) for h in heldout] if show_private else []
    scored = [t.pgr for t in transfer if t.pgr is not None]
    return LeaderboardEntry(
        agent=agent,
        submission_id=sub.id,
        kind=sub.kind,
        pgr=ladder.best,
        flags=list(sub.flags or []),
        private_pgr=private,
        review=list(full.get("review", [])) if admin else [],
        transfer_pgr=float(sum(scored) / len(scored)) if scored and len(scored) == len(transfer) else None,
        transfer=transfer,
        inspection=inspection.verdict if admin and inspection else None,
        held=bool(admin and inspection and inspection.held),
    )


def split_pgr(full_result: dict[str, Any] | None, split: str) -> float | None:
    """The full-precision mean PGR on ``split`` of a scored submission's admin report (``None``: none)."""
    return (full_result or {}).get("report", {}).get("splits", {}).get(split, {}).get("pgr", {}).get("mean")


def attack(sub: Submission, agent: str) -> Attack:
    """A hacker's submission with the scorer's verdict on it (see ``contract.Attack``)."""
    flags = list(dict.fromkeys([*(sub.flags or []), *(sub.full_result or {}).get("review", [])]))
    if sub.status in ("queued", "running"):
        verdict = "pending"
    elif sub.status != "done":
        verdict = "blocked" if "jail_violation" in flags else "failed"
    else:
        verdict = "flagged" if flags else "unflagged"
    return Attack(
        submission_id=sub.id,
        agent=agent,
        task=sub.task,
        status=sub.status,
        verdict=verdict,
        flags=flags,
        public_pgr=split_pgr(sub.full_result, "test_public"),
        private_pgr=split_pgr(sub.full_result, "test_private"),
        description=str((sub.payload or {}).get("description", "")),
        source=str((sub.payload or {}).get("source", "")),
        error=sub.error,
        created_at=sub.created_at,
    )


def inspection(row: InspectionRow, agent: Agent) -> Inspection:
    return Inspection(
        agent=agent.name,
        role=agent.role,
        verdict=row.verdict,
        evidence=list(row.evidence or []),
        judge=row.judge,
        campaign=row.campaign,
        inspected_at=row.inspected_at,
        held=row.held,
        cleared_by=row.cleared_by,
        cleared_at=row.cleared_at,
    )


def final_rank(entry: LeaderboardEntry, ranking: str) -> tuple[bool, float]:
    """The sort key of a finalised leaderboard: best first by ``ranking`` (``private``, ``transfer`` or
    their ``mean``); entries without that score last."""
    scores = {"private": [entry.private_pgr], "transfer": [entry.transfer_pgr]}
    chosen = scores.get(ranking, [entry.private_pgr, entry.transfer_pgr])
    if any(value is None for value in chosen):
        return True, 0.0
    return False, -sum(v for v in chosen if v is not None) / len(chosen)


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
