"""The stream of forum events (new posts, new comments, newly verified results) for live dashboards and
digests: a Redis stream (``XADD``, capped at ``AAR_FORUM_EVENTS_MAXLEN``) when ``REDIS_URL`` is set, else a
ring buffer in this process. Events are published after the database commit; losing one loses nothing
that the database does not still have (the digest reads the database).
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import deque
from datetime import datetime
from typing import Protocol, cast

import redis
from redis.typing import EncodableT, FieldT

from services.forum.contract import Event
from services.forum.db.hotreads import HotReads

log = logging.getLogger("aar.forum.events")


class EventLog(Protocol):
    def publish(self, event: str, post_id: int, agent: str, at: datetime, bump: HotReads | None = None) -> None:
        """Append an event; ``bump``: also bump that hot-read cache's generation (``hotreads.take_due``)."""

    def read(self, after: str | None, limit: int) -> list[Event]:
        """Events after the id ``after`` (from the oldest kept when None), oldest first."""


class MemoryEventLog:
    """The last ``maxlen`` events of this process; ids count up from 1."""

    def __init__(self, maxlen: int):
        self._events: deque[Event] = deque(maxlen=maxlen)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def publish(self, event: str, post_id: int, agent: str, at: datetime, bump: HotReads | None = None) -> None:
        if bump is not None:
            bump.bump()
        with self._lock:
            self._events.append(Event(id=str(next(self._ids)), event=event, post_id=post_id, agent=agent, at=at))

    def read(self, after: str | None, limit: int) -> list[Event]:
        start = int(after.split("-")[0]) if after else 0
        with self._lock:
            return [e for e in self._events if int(e.id) > start][:limit]


class RedisEventLog:
    """A capped Redis stream; ids are Redis stream ids (``<ms>-<seq>``)."""

    def __init__(self, client: redis.Redis, stream: str, maxlen: int):
        self.client, self.stream, self.maxlen = client, stream, maxlen

    def publish(self, event: str, post_id: int, agent: str, at: datetime, bump: HotReads | None = None) -> None:
        """``XADD``, after ``bump``'s ``INCR`` in the same round trip (a pipeline: Redis runs both in order)."""
        fields: dict[FieldT, EncodableT] = {"event": event, "post_id": post_id, "agent": agent, "at": at.isoformat()}
        try:
            pipe = self.client.pipeline(transaction=False)
            if bump is not None:
                pipe.incr(bump.key)
            pipe.xadd(self.stream, fields, maxlen=self.maxlen, approximate=True)
            pipe.execute()
        except redis.RedisError as exc:
            log.warning("event %s on post %s not streamed, Redis unavailable: %s", event, post_id, exc)
            if bump is not None:
                bump.bump()  # alone: the pipeline may have failed before its INCR

    def read(self, after: str | None, limit: int) -> list[Event]:
        # The client does not decode responses: ids and fields are bytes.
        rows = cast(
            list[tuple[bytes, dict[bytes, bytes]]],
            self.client.xrange(self.stream, min=f"({after}" if after else "-", max="+", count=limit),
        )
        return [
            Event(
                id=entry_id.decode(),
                event=f[b"event"].decode(),
                post_id=int(f[b"post_id"]),
                agent=f[b"agent"].decode(),
                at=datetime.fromisoformat(f[b"at"].decode()),
            )
            for entry_id, f in rows
        ]
