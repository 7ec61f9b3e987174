"""Hot writes (a post, a comment, a vote) with one worker-thread hop each.

A plain ``def`` route costs FastAPI two hops to a worker thread (the route, then the validation of what it
returned) and each plain ``def`` dependency one more; with the session dependency's commit, a write made up to
four, and on a busy 2-core machine the hops cost more CPU than the write's own SQL. These routes are ``async``
and get what they need from one dependency (``deps.write_dep``: the caller, admitted against the write limit,
the runtime and the ``Idempotency-Key``). ``Write.run`` runs the route's database work in one worker thread,
in a session committed before it returns — a 2xx still means the write is durable — and the route answers
with the rendered JSON of its view (``reads.render``), which FastAPI does not validate a second time. The
hot-read generation bump that the commit owes (``db/hotreads.py``) goes to Redis with the write's event, in
one round trip (``Write.publish``), still before the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from services.common.auth import Caller
from services.common.db import session_scope
from services.forum.api.idempotency import Idempotency
from services.forum.db import hotreads
from services.forum.runtime import Runtime

T = TypeVar("T")


@dataclass(frozen=True)
class Write:
    """One write request: its runtime, its caller (an agent) and its ``Idempotency-Key``."""

    runtime: Runtime
    caller: Caller
    idempotency: Idempotency

    @property
    def agent_id(self) -> int:
        return self.caller.required_agent_id

    async def run(self, work: Callable[[Session], T]) -> T:
        """``work(session)`` in a worker thread; the session commits when it returns (rolls back on error)."""
        return await run_in_threadpool(self._run, work)

    def _run(self, work: Callable[[Session], T]) -> T:
        with session_scope(self.runtime.settings.db_url) as session:
            hotreads.bump_later(session)
            try:
                result = work(session)
                session.commit()
            finally:
                hotreads.bump_due(session)  # what no ``publish`` took along
        return result

    def publish(self, session: Session, event: str, post_id: int, at: datetime) -> None:
        """After ``session``'s commit: the event, and the hot-read generation bump that the commit left due, in
        one Redis round trip."""
        self.runtime.events.publish(event, post_id, self.caller.name, at, bump=hotreads.take_due(session))
