"""Accepting a submission: check it against its task, honour its ``Idempotency-Key``, take a quota slot and
record it queued with its source audit (``source_audit``). The API maps the errors below to 409/422/429."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common.auth import Caller
from services.scorer.config import ScorerSettings
from services.scorer.contract import SubmissionCreate
from services.scorer.db import crud
from services.scorer.db.models import Submission
from services.scorer.source_audit import audit
from w2s.tasks import Task


class BadPredictions(ValueError):
    """Predictions that do not cover exactly the task's ``test_public`` items."""


class IdempotencyConflict(ValueError):
    """An ``Idempotency-Key`` already used with another body."""


class QuotaExhausted(Exception):
    """No submission slot or compute seconds are left today."""


def submit(
    *,
    session: Session,
    settings: ScorerSettings,
    caller: Caller,
    task: Task,
    body: SubmissionCreate,
    idempotency_key: str | None,
) -> tuple[Submission, bool]:
    """The submission and whether it is new (committed, to be sent to the queue), or the first one with this
    ``Idempotency-Key`` and body."""
    if body.kind == "predictions":
        expected = set(task.splits["test_public"].inputs.ids)
        missing, unknown = len(expected - set(body.predictions)), len(set(body.predictions) - expected)
        if missing or unknown:
            raise BadPredictions(
                f"predictions must cover exactly the {len(expected)} test_public items of "
                f"{task.name}: {missing} missing, {unknown} unknown"
            )
    payload = body.model_dump(exclude={"task", "kind"})
    payload_sha = hashlib.sha256(json.dumps([body.task, body.kind, payload], sort_keys=True).encode()).hexdigest()
    if idempotency_key:
        existing = crud.by_idempotency_key(session=session, agent_id=caller.required_agent_id, key=idempotency_key)
        if existing is not None:
            return _replay(existing, payload_sha), False
    if not crud.take_submission_slot(
        session=session,
        agent_id=caller.required_agent_id,
        limit=settings.submissions_per_day,
        compute_limit=settings.compute_seconds_per_day,
    ):
        usage = crud.quota_usage(session=session, agent_id=caller.required_agent_id)
        crud.audit(
            session=session,
            event="quota_refused",
            agent=caller.name,
            detail={"submissions": usage.submissions, "compute_seconds": usage.compute_seconds},
        )
        session.commit()
        raise QuotaExhausted(
            f"daily quota used: {usage.submissions}/{settings.submissions_per_day} submissions, "
            f"{usage.compute_seconds:.0f}/{settings.compute_seconds_per_day:.0f} compute seconds"
        )
    sub = crud.create_submission(
        session=session,
        agent_id=caller.required_agent_id,
        task=task.name,
        kind=body.kind,
        payload=payload,
        payload_sha256=payload_sha,
        idempotency_key=idempotency_key,
        source_audit=audit(body.source) if body.kind == "method" else None,
    )
    crud.audit(
        session=session,
        event="submitted",
        agent=caller.name,
        submission_id=sub.id,
        detail={"task": task.name, "kind": body.kind},
    )
    try:
        session.commit()
    except IntegrityError:  # a concurrent request with the same Idempotency-Key won the insert
        session.rollback()
        existing = crud.by_idempotency_key(
            session=session, agent_id=caller.required_agent_id, key=idempotency_key or ""
        )
        if existing is None:
            raise
        return _replay(existing, payload_sha), False
    return sub, True


def _replay(existing: Submission, payload_sha: str) -> Submission:
    """The answer to a repeated Idempotency-Key: the first submission, or a conflict for another body."""
    if existing.payload_sha256 != payload_sha:
        raise IdempotencyConflict("Idempotency-Key was already used with a different body")
    return existing
