"""Submit predictions or a method; read your submissions."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated

from fastapi import APIRouter, Body, Header, HTTPException, status
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.scorer.api.deps import AgentDep, CallerDep, SessionDep, SettingsDep
from services.scorer.api.routes.tasks import load_task
from services.scorer.contract import (
    Accepted,
    Problem,
    PublicResult,
    Status,
    SubmissionAdmin,
    SubmissionCreate,
    SubmissionList,
    SubmissionPublic,
)
from services.scorer.db import crud
from services.scorer.db.models import Agent, Submission
from services.scorer.worker.celery_app import enqueue

router = APIRouter(prefix="/v1/submissions", tags=["submissions"])


def to_public(sub: Submission, agent: str, admin: bool) -> SubmissionPublic:
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
        return SubmissionAdmin(**fields, full_result=sub.full_result, gpu_seconds=sub.gpu_seconds or 0.0)
    return SubmissionPublic(**fields)


def quota_exhausted(detail: str) -> HTTPException:
    resets = crud.next_reset()
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        f"{detail}; quota resets at {resets.isoformat()}",
        headers={"Retry-After": str(max(1, int((resets - crud.utcnow()).total_seconds())))},
    )


@router.post(
    "",
    status_code=202,
    response_model=Accepted,
    responses={409: {"model": Problem}, 422: {"model": Problem}, 429: {"model": Problem}},
)
def submit(
    body: Annotated[SubmissionCreate, Body()],
    caller: AgentDep,
    session: SessionDep,
    settings: SettingsDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Accepted:
    """Queue predictions (for every ``test_public`` item) or a method for scoring.

    The same ``Idempotency-Key`` with the same body returns the first submission; with another body, 409.
    Over quota: 429 with ``Retry-After``.
    """
    task = load_task(body.task, settings)
    if body.kind == "predictions":
        expected = set(task.splits["test_public"].inputs.ids)
        missing, unknown = len(expected - set(body.predictions)), len(set(body.predictions) - expected)
        if missing or unknown:
            raise HTTPException(
                422,
                f"predictions must cover exactly the {len(expected)} test_public items of "
                f"{task.name}: {missing} missing, {unknown} unknown",
            )
    payload = body.model_dump(exclude={"task", "kind"})
    payload_sha = hashlib.sha256(json.dumps([body.task, body.kind, payload], sort_keys=True).encode()).hexdigest()
    if idempotency_key:
        existing = crud.by_idempotency_key(session=session, agent_id=caller.required_agent_id, key=idempotency_key)
        if existing is not None:
            return _replay(existing, payload_sha)
    if not crud.take_submission_slot(
        session=session,
        agent_id=caller.required_agent_id,
        limit=settings.submissions_per_day,
        gpu_limit=settings.gpu_seconds_per_day,
    ):
        usage = crud.quota_usage(session=session, agent_id=caller.required_agent_id)
        crud.audit(
            session=session,
            event="quota_refused",
            agent=caller.name,
            detail={"submissions": usage.submissions, "gpu_seconds": usage.gpu_seconds},
        )
        session.commit()
        raise quota_exhausted(
            f"daily quota used: {usage.submissions}/{settings.submissions_per_day} submissions, "
            f"{usage.gpu_seconds:.0f}/{settings.gpu_seconds_per_day:.0f} compute seconds"
        )
    sub = Submission(
        id=crud.new_submission_id(),
        agent_id=caller.agent_id,
        task=task.name,
        kind=body.kind,
        payload=payload,
        payload_sha256=payload_sha,
        idempotency_key=idempotency_key,
        status="queued",
        enqueued_at=crud.utcnow(),
        attempts=0,
        cancel_requested=False,
        flags=[],
        gpu_seconds=0.0,
    )
    session.add(sub)
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
        return _replay(existing, payload_sha)
    enqueue(sub.id, settings, stamped=True)
    return Accepted(id=sub.id, status=Status.queued)


def _replay(existing: Submission, payload_sha: str) -> Accepted:
    """The answer to a repeated Idempotency-Key: the first submission, or 409 for another body."""
    if existing.payload_sha256 != payload_sha:
        raise HTTPException(409, "Idempotency-Key was already used with a different body")
    return Accepted(id=existing.id, status=existing.status)


@router.get("", response_model=SubmissionList)
def list_own(
    caller: CallerDep, session: SessionDep, task: str | None = None, agent: str | None = None, limit: int = 50
) -> SubmissionList:
    """The caller's submissions, newest first (an admin sees everyone's, or one ``agent``'s)."""
    limit = max(1, min(limit, 500))
    query = select(Submission, Agent.name).join(Agent).order_by(Submission.created_at.desc()).limit(limit)
    if not caller.is_admin:
        query = query.where(Submission.agent_id == caller.agent_id)
    if task:
        query = query.where(Submission.task == task)
    if agent:
        query = query.where(Agent.name == agent)
    rows = session.execute(query).all()
    return SubmissionList(data=[to_public(s, name, False) for s, name in rows], count=len(rows))


@router.get(
    "/{submission_id}",
    response_model=SubmissionPublic | SubmissionAdmin,
    responses={403: {"model": Problem}, 404: {"model": Problem}},
)
def read(submission_id: str, caller: CallerDep, session: SessionDep):
    """One submission: status, ladder-reported result, flags. Owner or admin only."""
    row = session.execute(select(Submission, Agent.name).join(Agent).where(Submission.id == submission_id)).first()
    if row is None:
        raise HTTPException(404, f"no submission {submission_id!r}")
    sub, agent = row
    if not caller.is_admin and sub.agent_id != caller.agent_id:
        raise HTTPException(403, "only the owner or an admin may read this submission")
    return JSONResponse(to_public(sub, agent, caller.is_admin).model_dump(mode="json"))
