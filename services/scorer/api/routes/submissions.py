"""Submit predictions or a method; read your submissions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Header, HTTPException

from services.common.inputs import KEY_PATTERN
from services.scorer import intake, views
from services.scorer.api.deps import AgentDep, CallerDep, RuntimeDep, SessionDep
from services.scorer.contract import (
    Accepted,
    Problem,
    SubmissionAdmin,
    SubmissionCreate,
    SubmissionList,
    SubmissionPublic,
)
from services.scorer.db import crud

router = APIRouter(prefix="/v1/submissions", tags=["submissions"])


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
    runtime: RuntimeDep,
    idempotency_key: Annotated[
        str | None,
        Header(pattern=KEY_PATTERN, description="retry-safe submit: the same key and body give the same submission"),
    ] = None,
) -> Accepted:
    """Queue predictions (for every ``test_public`` item) or a method for scoring.

    The same ``Idempotency-Key`` with the same body returns the first submission; with another body, 409.
    Over quota: 429 with ``Retry-After``.
    """
    task = runtime.catalogue.task(body.task)
    sub, created = intake.submit(
        session=session,
        settings=runtime.settings,
        caller=caller,
        task=task,
        body=body,
        idempotency_key=idempotency_key,
    )
    if created:
        runtime.queue.enqueue(sub.id, stamped=True)
    return Accepted(id=sub.id, status=sub.status)


@router.get("", response_model=SubmissionList)
def list_own(
    caller: CallerDep, session: SessionDep, task: str | None = None, agent: str | None = None, limit: int = 50
) -> SubmissionList:
    """The caller's submissions, newest first (an admin sees everyone's, or one ``agent``'s)."""
    rows = crud.list_submissions(
        session=session,
        agent_id=None if caller.is_admin else caller.agent_id,
        task=task,
        agent=agent,
        limit=max(1, min(limit, 500)),
    )
    queue = crud.queue_positions(session=session)
    return SubmissionList(data=[views.submission(s, name, False, queue) for s, name in rows], count=len(rows))


@router.get(
    "/{submission_id}",
    response_model=SubmissionPublic | SubmissionAdmin,
    responses={403: {"model": Problem}, 404: {"model": Problem}},
)
def read(submission_id: str, caller: CallerDep, session: SessionDep) -> SubmissionPublic:
    """One submission: status, ladder-reported result, flags. Owner or admin only."""
    row = crud.submission_with_agent(session=session, submission_id=submission_id)
    if row is None:
        raise HTTPException(404, f"no submission {submission_id!r}")
    sub, agent = row
    if not caller.is_admin and sub.heldout_of is not None:
        raise HTTPException(404, f"no submission {submission_id!r}")  # an admin's held-out re-score
    if not caller.is_admin and sub.agent_id != caller.agent_id:
        raise HTTPException(403, "only the owner or an admin may read this submission")
    queue = crud.queue_positions(session=session) if sub.status == "queued" else {}
    role = crud.agent_role(session=session, agent_id=sub.agent_id) if caller.is_admin else "researcher"
    return views.submission(sub, agent, caller.is_admin, queue, role)
