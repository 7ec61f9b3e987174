"""Data access, keyword-only and session-explicit, shared by the API, the worker and tests.

Every write that other processes race on is a single conditional UPDATE (compare-and-set), which is
atomic on Postgres and SQLite alike.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.common import agents
from services.common.db import rowcount, utcnow
from services.scorer.db.models import Agent, AuditLog, Inspection, Ladder, QuotaCounter, Submission, TaskState


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def next_reset() -> datetime:
    """Quotas reset at the next UTC midnight."""
    now = datetime.now(UTC)
    return (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


# --- agents -----------------------------------------------------------------------------------------


def agent_by_token(*, session: Session, token: str) -> Agent | None:
    return agents.agent_by_token(session=session, model=Agent, token=token)


def issue_token(*, session: Session, name: str, token: str, role: str = "researcher") -> Agent:
    """Create the agent or rotate its token (a re-issued token replaces the old one), with its role."""
    agent = agents.issue_token(session=session, model=Agent, name=name, token=token)
    agent.role = role
    return agent


def revoke_token(*, session: Session, name: str) -> bool:
    return agents.revoke_token(session=session, model=Agent, name=name)


# --- quotas -----------------------------------------------------------------------------------------


def _ensure_counter(session: Session, agent_id: int, day: str) -> None:
    """Create today's counter row unless it exists (``INSERT … ON CONFLICT DO NOTHING``, both backends)."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    row = dict(agent_id=agent_id, day=day, submissions=0, compute_seconds=0.0)
    session.execute(module.insert(QuotaCounter).values(**row).on_conflict_do_nothing())


def take_submission_slot(*, session: Session, agent_id: int, limit: int, compute_limit: float) -> bool:
    """Atomically count one submission against today's quota; ``False`` if none is left."""
    day = today()
    _ensure_counter(session, agent_id, day)
    result = session.execute(
        update(QuotaCounter)
        .where(
            QuotaCounter.agent_id == agent_id,
            QuotaCounter.day == day,
            QuotaCounter.submissions < limit,
            QuotaCounter.compute_seconds < compute_limit,
        )
        .values(submissions=QuotaCounter.submissions + 1)
    )
    return rowcount(result) == 1


def spend_compute_seconds(*, session: Session, agent_id: int, seconds: float) -> None:
    """Charge ``seconds`` of compute to the agent's quota today."""
    day = today()
    _ensure_counter(session, agent_id, day)
    session.execute(
        update(QuotaCounter)
        .where(QuotaCounter.agent_id == agent_id, QuotaCounter.day == day)
        .values(compute_seconds=QuotaCounter.compute_seconds + seconds)
    )


def charge_run(*, session: Session, submission: Submission, seconds: float) -> None:
    """Charge a run's ``seconds`` to its submission and to its agent's quota today (a held-out re-score,
    which an admin started, is recorded on the submission only)."""
    if submission.heldout_of is None:
        spend_compute_seconds(session=session, agent_id=submission.agent_id, seconds=seconds)
    submission.compute_seconds = (submission.compute_seconds or 0.0) + seconds


def quota_usage(*, session: Session, agent_id: int) -> QuotaCounter:
    counter = session.get(QuotaCounter, (agent_id, today()))
    return counter or QuotaCounter(agent_id=agent_id, day=today(), submissions=0, compute_seconds=0.0)


# --- submissions ------------------------------------------------------------------------------------


def new_submission_id() -> str:
    return secrets.token_hex(12)


def create_submission(
    *,
    session: Session,
    agent_id: int,
    task: str,
    kind: str,
    payload: dict,
    payload_sha256: str,
    idempotency_key: str | None,
    source_audit: dict | None = None,
    heldout_of: str | None = None,
) -> Submission:
    """A new queued submission, stamped as enqueued (the caller sends it once the transaction commits)."""
    sub = Submission(
        source_audit=source_audit,
        heldout_of=heldout_of,
        id=new_submission_id(),
        agent_id=agent_id,
        task=task,
        kind=kind,
        payload=payload,
        payload_sha256=payload_sha256,
        idempotency_key=idempotency_key,
        status="queued",
        enqueued_at=utcnow(),
        attempts=0,
        cancel_requested=False,
        flags=[],
        compute_seconds=0.0,
    )
    session.add(sub)
    return sub


def stamp_enqueued(*, session: Session, submission_id: str, sent: bool) -> None:
    """Record when the id was last sent to the queue (``None``: sending failed; the reconciler retries)."""
    stamp = utcnow() if sent else None
    session.execute(update(Submission).where(Submission.id == submission_id).values(enqueued_at=stamp))


def submission_with_agent(*, session: Session, submission_id: str) -> tuple[Submission, str] | None:
    """A submission and its agent's name."""
    row = session.execute(select(Submission, Agent.name).join(Agent).where(Submission.id == submission_id)).first()
    return (row[0], row[1]) if row is not None else None


def list_submissions(
    *, session: Session, agent_id: int | None, task: str | None, agent: str | None, limit: int
) -> list[tuple[Submission, str]]:
    """Submissions with their agents' names, newest first (``agent_id``: only that agent's, without the
    held-out re-scores an admin started)."""
    query = select(Submission, Agent.name).join(Agent).order_by(Submission.created_at.desc()).limit(limit)
    if agent_id is not None:
        query = query.where(Submission.agent_id == agent_id, Submission.heldout_of.is_(None))
    if task:
        query = query.where(Submission.task == task)
    if agent:
        query = query.where(Agent.name == agent)
    return [(sub, name) for sub, name in session.execute(query).all()]


def set_progress(*, session: Session, submission_id: str, run: int, runs: int) -> None:
    """Record that run ``run`` of ``runs`` of a running submission has started."""
    session.execute(
        update(Submission)
        .where(Submission.id == submission_id, Submission.status == "running")
        .values(progress={"run": run, "runs": runs})
    )


def queue_positions(*, session: Session) -> dict[str, int]:
    """Every queued submission's place in the queue (1: next), oldest first."""
    ids = session.scalars(
        select(Submission.id).where(Submission.status == "queued").order_by(Submission.created_at, Submission.id)
    )
    return {sid: place for place, sid in enumerate(ids, start=1)}


def request_cancel(*, session: Session, submission: Submission) -> None:
    """Flag a submission for cancellation; a queued one is cancelled at once."""
    submission.cancel_requested = True
    if submission.status == "queued":
        transition(
            session=session, submission_id=submission.id, expect="queued", status="cancelled", finished_at=utcnow()
        )


def by_idempotency_key(*, session: Session, agent_id: int, key: str) -> Submission | None:
    return session.scalar(select(Submission).where(Submission.agent_id == agent_id, Submission.idempotency_key == key))


def claim(*, session: Session, submission_id: str, max_attempts: int) -> bool:
    """Compare-and-set ``queued → running`` (attempt + 1). Exactly one claimant wins."""
    now = utcnow()
    result = session.execute(
        update(Submission)
        .where(
            Submission.id == submission_id,
            Submission.status == "queued",
            Submission.attempts < max_attempts,
            Submission.cancel_requested.is_(False),
        )
        .values(status="running", attempts=Submission.attempts + 1, started_at=now, heartbeat_at=now)
    )
    return rowcount(result) == 1


def transition(*, session: Session, submission_id: str, expect: str, **values) -> bool:
    """Compare-and-set from status ``expect`` to the given column values."""
    result = session.execute(
        update(Submission).where(Submission.id == submission_id, Submission.status == expect).values(**values)
    )
    return rowcount(result) == 1


def heartbeat(*, session: Session, submission_id: str) -> bool:
    """Refresh a running job's heartbeat; returns whether cancellation was requested."""
    session.execute(
        update(Submission)
        .where(Submission.id == submission_id, Submission.status == "running")
        .values(heartbeat_at=utcnow())
    )
    return bool(session.scalar(select(Submission.cancel_requested).where(Submission.id == submission_id)))


def prior_hard_predictions(*, session: Session, agent_id: int, task: str, exclude: str) -> list[tuple[str, str, float]]:
    """Every finished submission of the agent on ``task`` that counted as a probe of ``test_public``
    (predictions, or a method with fixed outputs, marked ``probe``): (id, packed hard
    ``test_public`` predictions, probing bits it spent), oldest first."""
    rows = session.scalars(
        select(Submission)
        .where(
            Submission.agent_id == agent_id,
            Submission.task == task,
            Submission.status == "done",
            Submission.id != exclude,
        )
        .order_by(Submission.finished_at)
    )
    return [
        (sub.id, sub.full_result["public_hard"], sub.full_result.get("probing_bits", 0.0))
        for sub in rows
        if sub.full_result
        and sub.full_result.get("public_hard")
        and (sub.kind == "predictions" or sub.full_result.get("probe"))
    ]


# --- ladder, tasks, audit ---------------------------------------------------------------------------


def ladder_best(*, session: Session, agent_id: int, task: str) -> Ladder | None:
    return session.get(Ladder, (agent_id, task))


def leaderboard_rows(*, session: Session, task: str, held: bool = False) -> list[tuple[Ladder, str, Submission]]:
    """Each agent's ladder row on ``task`` with its name and the submission behind it, best first; the rows
    an uncleared FAIL holds only with ``held`` (admins)."""
    query = (
        select(Ladder, Agent.name, Submission)
        .join(Agent, Agent.id == Ladder.agent_id)
        .join(Submission, Submission.id == Ladder.submission_id)
        .where(Ladder.task == task)
        .order_by(Ladder.best.desc())
    )
    if not held:
        query = query.where(Ladder.agent_id.not_in(select(Inspection.agent_id).where(Inspection.held.is_(True))))
    return [(ladder, name, sub) for ladder, name, sub in session.execute(query).all()]


def set_ladder(*, session: Session, agent_id: int, task: str, best: float, submission_id: str) -> None:
    row = session.get(Ladder, (agent_id, task))
    if row is None:
        session.add(Ladder(agent_id=agent_id, task=task, best=best, submission_id=submission_id))
    else:
        row.best, row.submission_id = best, submission_id


def is_finalised(*, session: Session, task: str) -> bool:
    state = session.get(TaskState, task)
    return state is not None and state.finalised_at is not None


def heldout_scores(*, session: Session, parents: list[str]) -> dict[str, list[Submission]]:
    """The held-out re-scores of each of ``parents`` (submission ids)."""
    found: dict[str, list[Submission]] = {p: [] for p in parents}
    if parents:
        for sub in session.scalars(select(Submission).where(Submission.heldout_of.in_(parents))):
            found[sub.heldout_of or ""].append(sub)
    return found


def create_heldout(*, session: Session, parent: Submission, task: str) -> Submission | None:
    """A queued re-score of ``parent``'s method on the held-out ``task`` (``None`` if it exists already)."""
    exists = session.scalar(select(Submission.id).where(Submission.heldout_of == parent.id, Submission.task == task))
    if exists is not None:
        return None
    return create_submission(
        session=session,
        agent_id=parent.agent_id,
        task=task,
        kind=parent.kind,
        payload=parent.payload,
        payload_sha256=parent.payload_sha256,
        idempotency_key=None,
        source_audit=parent.source_audit,
        heldout_of=parent.id,
    )


def agent_role(*, session: Session, agent_id: int) -> str:
    agent = session.get(Agent, agent_id)
    return agent.role if agent is not None else "researcher"


def attacks(*, session: Session, agent: str | None, limit: int) -> list[tuple[Submission, str]]:
    """Hackers' submissions (of one ``agent``), newest first, with their authors' names."""
    query = (
        select(Submission, Agent.name)
        .join(Agent, Agent.id == Submission.agent_id)
        .where(Agent.role == "hacker", Submission.heldout_of.is_(None))
        .order_by(Submission.created_at.desc())
        .limit(limit)
    )
    if agent:
        query = query.where(Agent.name == agent)
    return [(sub, name) for sub, name in session.execute(query).all()]


def agent_by_name(*, session: Session, name: str) -> Agent | None:
    return session.scalar(select(Agent).where(Agent.name == name))


def record_inspection(
    *, session: Session, agent: Agent, verdict: str, evidence: list[str], judge: str | None, campaign: str | None
) -> Inspection:
    """Replace the agent's inspection; a FAIL holds its ladder entries (until an admin clears it)."""
    row = session.get(Inspection, agent.id) or Inspection(agent_id=agent.id)
    row.campaign, row.verdict, row.evidence, row.judge = campaign, verdict, evidence, judge
    row.inspected_at, row.held = utcnow(), verdict == "FAIL"
    row.cleared_by = row.cleared_at = None
    session.add(row)
    session.flush()
    return row


def clear_inspection(*, session: Session, agent: Agent, by: str) -> Inspection | None:
    """Lift the hold of the agent's FAIL; ``None`` when nothing holds it."""
    row = session.get(Inspection, agent.id)
    if row is None or not row.held:
        return None
    row.held, row.cleared_by, row.cleared_at = False, by, utcnow()
    return row


def inspections(*, session: Session, agent_ids: list[int] | None = None) -> list[tuple[Inspection, Agent]]:
    """Inspections with their agents (of ``agent_ids``, or all), newest first."""
    query = select(Inspection, Agent).join(Agent, Agent.id == Inspection.agent_id)
    if agent_ids is not None:
        query = query.where(Inspection.agent_id.in_(agent_ids))
    return [(row, agent) for row, agent in session.execute(query.order_by(Inspection.inspected_at.desc())).all()]


def finalise(*, session: Session, task: str) -> None:
    state = session.get(TaskState, task)
    if state is None:
        session.add(TaskState(task=task, finalised_at=utcnow()))
    elif state.finalised_at is None:
        state.finalised_at = utcnow()


def audit(
    *,
    session: Session,
    event: str,
    agent: str | None = None,
    submission_id: str | None = None,
    detail: dict | None = None,
) -> None:
    """Append one event to the audit log."""
    session.add(AuditLog(event=event, agent=agent, submission_id=submission_id, detail=detail or {}))


def audit_events(
    *, session: Session, submission_id: str | None, agent: str | None, event: str | None, limit: int
) -> list[AuditLog]:
    """Audit events, newest first, optionally of one submission, agent or event name."""
    query = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if submission_id:
        query = query.where(AuditLog.submission_id == submission_id)
    if agent:
        query = query.where(AuditLog.agent == agent)
    if event:
        query = query.where(AuditLog.event == event)
    return list(session.scalars(query).all())
