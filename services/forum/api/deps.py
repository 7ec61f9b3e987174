"""Typed dependencies: the process runtime, a database session, and the caller (agent or admin) from the
bearer token, with per-agent read and write rate limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy.orm import Session

from services.common import agents
from services.common.auth import Caller, Credentials, authenticate, require_agent, role_dependencies
from services.common.db import DURABLE, READ_METHODS, session_scope
from services.common.tokens import digest
from services.forum.config import ForumSettings
from services.forum.db.models import Agent
from services.forum.runtime import Runtime


async def runtime_dep(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(runtime_dep)]


async def settings_dep(runtime: RuntimeDep) -> ForumSettings:
    return runtime.settings


SettingsDep = Annotated[ForumSettings, Depends(settings_dep)]


async def session_dep(settings: SettingsDep, request: Request) -> AsyncIterator[Session]:
    """A session committed when the route returns, before the response is sent (rolled back on error; see
    ``DURABLE``). Opening one does no I/O, so only the commit goes to a worker thread: each plain ``def``
    dependency costs FastAPI a thread hop, and on a busy 2-core machine the hops were most of a small
    request's time."""
    scope = session_scope(settings.db_url, read_only=request.method in READ_METHODS)
    session = scope.__enter__()
    try:
        yield session
    except BaseException as exc:
        await run_in_threadpool(scope.__exit__, type(exc), exc, exc.__traceback__)
        raise
    await run_in_threadpool(scope.__exit__, None, None, None)


SessionDep = Annotated[Session, Depends(session_dep, scope=DURABLE)]


def _caller(runtime: Runtime, session: Session, credentials: HTTPAuthorizationCredentials | None) -> Caller:
    def lookup(token: str) -> Caller | None:
        key = digest(token)
        cached = runtime.tokens.get(key)
        if cached is not None:
            return cached
        agent = agents.agent_by_token(session=session, model=Agent, token=token)
        session.commit()  # end the lookup's transaction: on SQLite it holds the write lock (a long upload)
        if agent is None:
            return None
        caller = Caller(agent.name, agent.id)
        runtime.tokens.put(key, caller)
        return caller

    return authenticate(credentials, runtime.admin_token, lookup)


def _limit(runtime: Runtime, caller: Caller, kind: str, limit: int) -> Caller:
    if caller.is_admin:
        return caller
    decision = runtime.limiter.hit(caller.name, kind, limit)
    if not decision.allowed:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"rate limit: at most {limit} {kind}s per minute per agent; retry in {decision.retry_after_s} s",
            headers={"Retry-After": str(decision.retry_after_s)},
        )
    return caller


# Each dependency below authenticates and rate-limits in one step (one thread hop, see ``session_dep``).


def caller_dep(runtime: RuntimeDep, session: SessionDep, credentials: Credentials) -> Caller:
    """Any valid token (not rate-limited: the admin routes)."""
    return _caller(runtime, session, credentials)


def reader_dep(runtime: RuntimeDep, session: SessionDep, credentials: Credentials) -> Caller:
    """Any valid token; agents are held to ``AAR_FORUM_READS_PER_MINUTE``."""
    return _limit(runtime, _caller(runtime, session, credentials), "read", runtime.settings.reads_per_minute)


def writer_dep(runtime: RuntimeDep, session: SessionDep, credentials: Credentials) -> Caller:
    """An agent token, held to ``AAR_FORUM_WRITES_PER_MINUTE``."""
    caller = require_agent(_caller(runtime, session, credentials))
    return _limit(runtime, caller, "write", runtime.settings.writes_per_minute)


def moderator_dep(runtime: RuntimeDep, session: SessionDep, credentials: Credentials) -> Caller:
    """An agent (rate-limited as a write) or the admin: for deletes, which the admin may do to moderate."""
    return _limit(runtime, _caller(runtime, session, credentials), "write", runtime.settings.writes_per_minute)


AdminDep = Annotated[Caller, Depends(role_dependencies(caller_dep)[1])]
ReaderDep = Annotated[Caller, Depends(reader_dep)]
WriterDep = Annotated[Caller, Depends(writer_dep)]
ModeratorDep = Annotated[Caller, Depends(moderator_dep)]
