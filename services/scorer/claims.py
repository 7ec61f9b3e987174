"""Claiming a queued submission: a compare-and-set (``queued → running``, attempt + 1) that a second
delivery of the same id loses, and what happens to ids that cannot be claimed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from services.common.db import session_scope, utcnow
from services.scorer.config import ScorerSettings
from services.scorer.db import crud
from services.scorer.db.models import Agent, Submission


@dataclass(frozen=True)
class Job:
    """A claimed submission as the worker runs it: a snapshot taken in the claiming transaction."""

    submission_id: str
    agent: str
    agent_id: int
    task: str
    kind: str
    payload: dict[str, Any]
    source_audit: dict[str, Any] | None
    heldout_of: str | None
    attempt: int
    settings: ScorerSettings

    @property
    def url(self) -> str:
        return self.settings.db_url


def claim(submission_id: str, settings: ScorerSettings) -> Job | str:
    """The claimed job, or the outcome (``skipped``, ``dead``, ``cancelled``) when it cannot be claimed."""
    with session_scope(settings.db_url) as db:
        if not crud.claim(session=db, submission_id=submission_id, max_attempts=settings.max_attempts):
            return _not_claimed(db, submission_id, settings)
        sub = db.get_one(Submission, submission_id)
        agent = db.get_one(Agent, sub.agent_id).name
        crud.audit(
            session=db, event="claimed", agent=agent, submission_id=submission_id, detail={"attempt": sub.attempts}
        )
        return Job(
            submission_id,
            agent,
            sub.agent_id,
            sub.task,
            sub.kind,
            sub.payload,
            sub.source_audit,
            sub.heldout_of,
            sub.attempts,
            settings,
        )


def _not_claimed(db: Session, submission_id: str, settings: ScorerSettings) -> str:
    sub = db.get(Submission, submission_id)
    if sub is not None and sub.status == "queued" and sub.attempts >= settings.max_attempts:
        crud.transition(
            session=db,
            submission_id=submission_id,
            expect="queued",
            status="dead",
            finished_at=utcnow(),
            error=f"gave up after {sub.attempts} attempts",
        )
        crud.audit(session=db, event="dead", submission_id=submission_id, detail={"attempts": sub.attempts})
        return "dead"
    if sub is not None and sub.status == "queued" and sub.cancel_requested:
        crud.transition(
            session=db, submission_id=submission_id, expect="queued", status="cancelled", finished_at=utcnow()
        )
        return "cancelled"
    return "skipped"
