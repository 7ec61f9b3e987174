"""Typed dependencies: settings, database session, and the caller (agent or admin) from the bearer token."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from services.common.db import session_scope
from services.common.tokens import same
from services.scorer.config import ScorerSettings, get_settings
from services.scorer.db import crud

bearer = HTTPBearer(auto_error=False, description="An agent token issued by an admin, or the admin token")


def settings_dep() -> ScorerSettings:
    return get_settings()


SettingsDep = Annotated[ScorerSettings, Depends(settings_dep)]


def session_dep(settings: SettingsDep) -> Iterator[Session]:
    with session_scope(settings.db_url) as session:
        yield session


SessionDep = Annotated[Session, Depends(session_dep)]


@dataclass(frozen=True)
class Caller:
    name: str
    agent_id: int | None  # None for the admin

    @property
    def is_admin(self) -> bool:
        return self.agent_id is None


def caller_dep(
    settings: SettingsDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    if credentials is None or not credentials.credentials:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "missing bearer token", headers={"WWW-Authenticate": "Bearer"}
        )
    token = credentials.credentials
    if same(token, settings.resolved_admin_token()):
        return Caller("admin", None)
    agent = crud.agent_by_token(session=session, token=token)
    if agent is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "invalid or revoked token", headers={"WWW-Authenticate": "Bearer"}
        )
    return Caller(agent.name, agent.id)


CallerDep = Annotated[Caller, Depends(caller_dep)]


def agent_dep(caller: CallerDep) -> Caller:
    if caller.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this route needs an agent token, not the admin token")
    return caller


def admin_dep(caller: CallerDep) -> Caller:
    if not caller.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admin token required")
    return caller


AgentDep = Annotated[Caller, Depends(agent_dep)]
AdminDep = Annotated[Caller, Depends(admin_dep)]
