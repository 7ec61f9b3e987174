"""Admin routes: agent tokens (the same interface as the scorer's)."""

from fastapi import APIRouter, HTTPException

from services.common import agents
from services.common.tokens import new_token
from services.forum.api.deps import AdminDep, RuntimeDep, SessionDep
from services.forum.contract import Message, Problem, TokenCreate, TokenIssued
from services.forum.db.models import Agent

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses={403: {"model": Problem}})


@router.post("/tokens", response_model=TokenIssued, status_code=201)
def issue_token(body: TokenCreate, _: AdminDep, session: SessionDep, runtime: RuntimeDep) -> TokenIssued:
    """Issue (or rotate) an agent's token. The token is shown once; only its hash is stored."""
    token = new_token("aar_fo")
    agents.issue_token(session=session, model=Agent, name=body.agent, token=token)
    runtime.tokens.clear()
    return TokenIssued(agent=body.agent, token=token)


@router.delete("/tokens/{agent}", response_model=Message, responses={404: {"model": Problem}})
def revoke_token(agent: str, _: AdminDep, session: SessionDep, runtime: RuntimeDep) -> Message:
    if not agents.revoke_token(session=session, model=Agent, name=agent):
        raise HTTPException(404, f"no active token for agent {agent!r}")
    session.commit()
    runtime.tokens.clear()
    return Message(message=f"token of {agent} revoked")
