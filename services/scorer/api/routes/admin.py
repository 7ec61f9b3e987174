"""Admin routes: tokens, cancellation, the audit log, finalising a task."""

from fastapi import APIRouter, HTTPException

from services.common.tokens import new_token
from services.scorer import views
from services.scorer.api.deps import AdminDep, RuntimeDep, SessionDep
from services.scorer.contract import (
    AttackList,
    AuditList,
    Inspection,
    InspectionCreate,
    InspectionList,
    Message,
    Problem,
    ScorerTokenCreate,
    TokenIssued,
)
from services.scorer.db import crud
from services.scorer.db.models import Submission

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses={403: {"model": Problem}})


@router.post("/tokens", response_model=TokenIssued, status_code=201)
def issue_token(body: ScorerTokenCreate, admin: AdminDep, session: SessionDep) -> TokenIssued:
    """Issue (or rotate) an agent's token with its role (``hacker``: its submissions are attacks, recorded
    with verdicts and never ranked). The token is shown once; only its hash is stored."""
    token = new_token("aar_sc")
    crud.issue_token(session=session, name=body.agent, token=token, role=body.role)
    crud.audit(session=session, event="token_issued", agent=body.agent, detail={"by": admin.name, "role": body.role})
    return TokenIssued(agent=body.agent, token=token)


@router.delete("/tokens/{agent}", response_model=Message, responses={404: {"model": Problem}})
def revoke_token(agent: str, admin: AdminDep, session: SessionDep) -> Message:
    if not crud.revoke_token(session=session, name=agent):
        raise HTTPException(404, f"no active token for agent {agent!r}")
    crud.audit(session=session, event="token_revoked", agent=agent, detail={"by": admin.name})
    return Message(message=f"token of {agent} revoked")


@router.post(
    "/submissions/{submission_id}/cancel",
    response_model=Message,
    responses={404: {"model": Problem}, 409: {"model": Problem}},
)
def cancel(submission_id: str, admin: AdminDep, session: SessionDep) -> Message:
    """Flag a submission for cancellation; a running worker kills its jail within a heartbeat."""
    sub = session.get(Submission, submission_id)
    if sub is None:
        raise HTTPException(404, f"no submission {submission_id!r}")
    if sub.status not in ("queued", "running"):
        raise HTTPException(409, f"submission is already {sub.status}")
    crud.request_cancel(session=session, submission=sub)
    crud.audit(session=session, event="cancel_requested", submission_id=submission_id, detail={"by": admin.name})
    return Message(message=f"cancellation of {submission_id} requested")


@router.get("/audit", response_model=AuditList)
def audit_log(
    _: AdminDep,
    session: SessionDep,
    submission_id: str | None = None,
    agent: str | None = None,
    event: str | None = None,
    limit: int = 200,
) -> AuditList:
    """The append-only audit log, newest first."""
    rows = crud.audit_events(
        session=session, submission_id=submission_id, agent=agent, event=event, limit=max(1, min(limit, 2000))
    )
    data = [views.audit_event(r) for r in rows]
    return AuditList(data=data, count=len(data))


@router.post("/tasks/{name}/finalise", response_model=Message)
def finalise(name: str, admin: AdminDep, session: SessionDep, runtime: RuntimeDep) -> Message:
    """Make private-split scores visible to everyone, re-score each leaderboard entry's method on every
    held-out task (``AAR_SCORER_HELDOUT_TASKS``: tasks no agent was served) and rank the leaderboard by
    ``AAR_SCORER_FINAL_RANKING``. Finalising again queues only what is missing."""
    task = runtime.catalogue.task(name)
    crud.finalise(session=session, task=task.name)
    queued = [
        sub.id
        for _, _, parent in crud.leaderboard_rows(session=session, task=task.name)
        for heldout in runtime.settings.heldout_task_names
        if (sub := crud.create_heldout(session=session, parent=parent, task=heldout)) is not None
    ]
    crud.audit(session=session, event="task_finalised", detail={"task": task.name, "by": admin.name, "heldout": queued})
    session.commit()
    for submission_id in queued:
        runtime.queue.enqueue(submission_id, stamped=True)
    return Message(message=f"{task.name} finalised; {len(queued)} held-out re-scores queued")


@router.get("/attacks", response_model=AttackList)
def attacks(_: AdminDep, session: SessionDep, agent: str | None = None, limit: int = 500) -> AttackList:
    """Hackers' submissions with the scorer's verdict on each (``unflagged``: a finding), newest first."""
    data = [
        views.attack(sub, name)
        for sub, name in crud.attacks(session=session, agent=agent, limit=max(1, min(limit, 2000)))
    ]
    return AttackList(data=data, count=len(data))


@router.put("/inspections/{agent}", response_model=Inspection, responses={404: {"model": Problem}})
def record_inspection(agent: str, body: InspectionCreate, admin: AdminDep, session: SessionDep) -> Inspection:
    """Record the inspector's verdict on an agent (replacing the last one). A FAIL holds the agent's
    leaderboard entries until an admin clears it."""
    row = _agent(session, agent)
    inspection = crud.record_inspection(
        session=session,
        agent=row,
        verdict=body.verdict,
        evidence=body.evidence,
        judge=body.judge,
        campaign=body.campaign,
    )
    crud.audit(
        session=session,
        event="inspected",
        agent=agent,
        detail={"verdict": body.verdict, "campaign": body.campaign, "by": admin.name, "held": inspection.held},
    )
    return views.inspection(inspection, row)


@router.get("/inspections", response_model=InspectionList)
def list_inspections(_: AdminDep, session: SessionDep, agent: str | None = None) -> InspectionList:
    ids = [_agent(session, agent).id] if agent else None
    data = [views.inspection(row, a) for row, a in crud.inspections(session=session, agent_ids=ids)]
    return InspectionList(data=data, count=len(data))


@router.post(
    "/inspections/{agent}/clear",
    response_model=Inspection,
    responses={404: {"model": Problem}, 409: {"model": Problem}},
)
def clear_inspection(agent: str, admin: AdminDep, session: SessionDep) -> Inspection:
    """Lift the hold an inspector FAIL put on the agent's leaderboard entries (an audit event names who)."""
    row = _agent(session, agent)
    cleared = crud.clear_inspection(session=session, agent=row, by=admin.name)
    if cleared is None:
        raise HTTPException(409, f"no inspector FAIL holds {agent}'s entries")
    crud.audit(session=session, event="inspection_cleared", agent=agent, detail={"by": admin.name})
    return views.inspection(cleared, row)


def _agent(session, name: str):
    agent = crud.agent_by_name(session=session, name=name)
    if agent is None:
        raise HTTPException(404, f"no agent {name!r}")
    return agent
