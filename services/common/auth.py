"""Bearer-token callers, shared by the services: an agent (looked up by its token's digest) or the admin.

A service builds its own ``caller_dep`` (it knows its settings, session and agents table) with
``authenticate`` and gets the agent-only and admin-only dependencies from ``role_dependencies``.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.common.tokens import same

bearer = HTTPBearer(auto_error=False, description="An agent token issued by an admin, or the admin token")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


@dataclass(frozen=True)
class Caller:
    name: str
    agent_id: int | None  # None for the admin

    @property
    def is_admin(self) -> bool:
        return self.agent_id is None

    @property
    def required_agent_id(self) -> int:
        """The agent's id, for a caller an agent-only dependency let through."""
        if self.agent_id is None:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "this route needs an agent token, not the admin token")
        return self.agent_id


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


def authenticate(
    credentials: HTTPAuthorizationCredentials | None,
    admin_token: str,
    lookup: Callable[[str], Caller | None],
    refused: str = "invalid or revoked token",
) -> Caller:
    """The caller behind a bearer token: the admin, or whoever ``lookup(token)`` finds; 401 otherwise (with
    ``refused`` as the detail for a token nobody holds)."""
    if credentials is None or not credentials.credentials:
        raise _unauthorized("missing bearer token")
    token = credentials.credentials
    if same(token, admin_token):
        return Caller("admin", None)
    caller = lookup(token)
    if caller is None:
        raise _unauthorized(refused)
    return caller


def no_agents(_token: str) -> Caller | None:
    """The ``lookup`` of a service that knows no agents (the dashboard): only the admin token opens it."""
    return None


def require_agent(caller: Caller) -> Caller:
    """The caller, if an agent; 403 for the admin token."""
    if caller.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this route needs an agent token, not the admin token")
    return caller


RoleDep = Callable[[Caller], Awaitable[Caller]]


def role_dependencies(caller_dep: Callable[..., Caller] | Callable[..., Awaitable[Caller]]) -> tuple[RoleDep, RoleDep]:
    """``(agent_dep, admin_dep)``: dependencies that accept only an agent token, or only the admin's (a service
    wraps each in ``Annotated[Caller, Depends(...)]``, a type alias for its routes). They are ``async`` because
    they only check: FastAPI runs a plain ``def`` dependency in a worker thread."""

    async def agent_dep(caller: Annotated[Caller, Depends(caller_dep)]) -> Caller:
        return require_agent(caller)

    async def admin_dep(caller: Annotated[Caller, Depends(caller_dep)]) -> Caller:
        if not caller.is_admin:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "admin token required")
        return caller

    return agent_dep, admin_dep
