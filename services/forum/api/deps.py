"""Typed dependencies: the process runtime, a database session, and the caller (agent or admin) from the
bearer token, with per-agent read and write rate limits.

The caller dependencies are ``async``: a known token is found in the process's token cache and the rate
limit is one Redis round trip on the asyncio client, so they need no worker thread (FastAPI runs each plain
``def`` dependency in one, and on a busy 2-core machine those hops were much of a small request's time). Only
a token the cache does not hold is looked up in the database, in a worker thread with a session of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from services.common import agents
from services.common.auth import Caller, Credentials, authenticate, require_agent, role_dependencies
from services.common.db import DURABLE, READ_METHODS, session_scope
from services.common.tokens import digest, same
from services.forum.api.idempotency import Idempotency, KeyHeader
from services.forum.api.reads import CachedReads
from services.forum.api.writes import Write
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
    ``DURABLE``). Opening one does no I/O, and neither does closing one that holds no transaction (the route
    committed, or never touched the database), so only a pending commit or rollback goes to a worker thread."""
    scope = session_scope(settings.db_url, read_only=request.method in READ_METHODS)
    session = scope.__enter__()
    try:
        yield session
    except BaseException as exc:
        await run_in_threadpool(scope.__exit__, type(exc), exc, exc.__traceback__)
        raise
    if session.in_transaction() or session.new or session.dirty or session.deleted:
        await run_in_threadpool(scope.__exit__, None, None, None)
    else:
        scope.__exit__(None, None, None)


SessionDep = Annotated[Session, Depends(session_dep, scope=DURABLE)]


def _lookup(runtime: Runtime, token: str) -> Caller | None:
    """The agent holding ``token`` from the database (in a worker thread), cached for the next requests."""
    with session_scope(runtime.settings.db_url, read_only=True) as session:
        agent = agents.agent_by_token(session=session, model=Agent, token=token)
        caller = None if agent is None else Caller(agent.name, agent.id)
    if caller is not None:
        runtime.tokens.put(digest(token), caller)
    return caller


async def _caller(runtime: Runtime, credentials: Credentials) -> Caller:
    token = credentials.credentials if credentials is not None else ""
    if token and not same(token, runtime.admin_token):
        cached = runtime.tokens.get(digest(token))
        if cached is not None:
            return cached
        return await run_in_threadpool(authenticate, credentials, runtime.admin_token, lambda t: _lookup(runtime, t))
    return authenticate(credentials, runtime.admin_token, lambda _t: None)


async def _admit(runtime: Runtime, request: Request, caller: Caller, kind: str, limit: int) -> Caller:
    """Count the request against the caller's ``kind`` limit (429 past it; the admin is not limited) and keep
    the write generation read in the same round trip for the hot-read cache (``api/reads.py``)."""
    decision = await runtime.limiter.hit(None if caller.is_admin else caller.name, kind, limit)
    if not decision.allowed:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"rate limit: at most {limit} {kind}s per minute per agent; retry in {decision.retry_after_s} s",
            headers={"Retry-After": str(decision.retry_after_s)},
        )
    request.state.generation = decision.generation
    return caller


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime


# The dependencies below read the runtime from the request rather than through ``RuntimeDep``: FastAPI solves
# every sub-dependency afresh on each request (its parameters, scopes and caches), which cost more CPU than a
# cached read's own work.


async def caller_dep(request: Request, credentials: Credentials) -> Caller:
    """Any valid token (not rate-limited: the admin routes)."""
    return await _caller(_runtime(request), credentials)


async def reader_dep(request: Request, credentials: Credentials) -> Caller:
    """Any valid token; agents are held to ``AAR_FORUM_READS_PER_MINUTE``."""
    runtime = _runtime(request)
    caller = await _caller(runtime, credentials)
    return await _admit(runtime, request, caller, "read", runtime.settings.reads_per_minute)


async def writer_dep(request: Request, credentials: Credentials) -> Caller:
    """An agent token, held to ``AAR_FORUM_WRITES_PER_MINUTE``."""
    runtime = _runtime(request)
    caller = require_agent(await _caller(runtime, credentials))
    return await _admit(runtime, request, caller, "write", runtime.settings.writes_per_minute)


async def write_dep(request: Request, credentials: Credentials, idempotency_key: KeyHeader = None) -> Write:
    """``writer_dep``'s caller with the runtime and the ``Idempotency-Key``: all a hot write needs
    (``api/writes.py``), in one dependency."""
    return Write(_runtime(request), await writer_dep(request, credentials), Idempotency(idempotency_key))


async def moderator_dep(request: Request, credentials: Credentials) -> Caller:
    """An agent (rate-limited as a write) or the admin: for deletes, which the admin may do to moderate."""
    runtime = _runtime(request)
    caller = await _caller(runtime, credentials)
    return await _admit(runtime, request, caller, "write", runtime.settings.writes_per_minute)


async def cached_reads_dep(request: Request, credentials: Credentials) -> CachedReads:
    """``reader_dep``'s caller and the hot-read cache under the generation read when it was admitted."""
    runtime = _runtime(request)
    caller = await _caller(runtime, credentials)
    await _admit(runtime, request, caller, "read", runtime.settings.reads_per_minute)
    return CachedReads(runtime.settings.db_url, runtime.hot_reads, request.state.generation, caller)


AdminDep = Annotated[Caller, Depends(role_dependencies(caller_dep)[1])]
ReaderDep = Annotated[Caller, Depends(reader_dep)]
WriterDep = Annotated[Caller, Depends(writer_dep)]
WriteDep = Annotated[Write, Depends(write_dep)]
ModeratorDep = Annotated[Caller, Depends(moderator_dep)]
CachedReadsDep = Annotated[CachedReads, Depends(cached_reads_dep)]
