"""Typed dependencies: the process runtime, its settings, a database session, and the caller (agent or
admin) from the bearer token."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from services.common.auth import Caller, Credentials, authenticate, role_dependencies
from services.common.db import DURABLE, READ_METHODS, session_scope
from services.scorer.config import ScorerSettings
from services.scorer.db import crud
from services.scorer.runtime import Runtime


async def runtime_dep(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(runtime_dep)]


async def settings_dep(runtime: RuntimeDep) -> ScorerSettings:
    return runtime.settings


SettingsDep = Annotated[ScorerSettings, Depends(settings_dep)]


def session_dep(settings: SettingsDep, request: Request) -> Iterator[Session]:
    """A session committed when the route returns, before the response is sent (see ``DURABLE``)."""
    with session_scope(settings.db_url, read_only=request.method in READ_METHODS) as session:
        yield session


SessionDep = Annotated[Session, Depends(session_dep, scope=DURABLE)]


def caller_dep(runtime: RuntimeDep, session: SessionDep, credentials: Credentials) -> Caller:
    def lookup(token: str) -> Caller | None:
        agent = crud.agent_by_token(session=session, token=token)
        return Caller(agent.name, agent.id) if agent is not None else None

    return authenticate(credentials, runtime.admin_token, lookup)


CallerDep = Annotated[Caller, Depends(caller_dep)]
agent_dep, admin_dep = role_dependencies(caller_dep)
AgentDep = Annotated[Caller, Depends(agent_dep)]
AdminDep = Annotated[Caller, Depends(admin_dep)]
