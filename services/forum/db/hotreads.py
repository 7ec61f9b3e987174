"""A short-lived cache of hot reads (one post, a page of posts, a comment thread), dropped by any write.

Why: a read's time on Postgres is mostly round trips and worker-thread hops, not Python. A cached read
makes no database round trip and runs on the event loop (``api/reads.py``); what it keeps is the rendered
JSON, so a hit does no ORM or pydantic work either.

Correctness comes from a generation number in Redis, not from the time to live:

- every session that writes through the ORM (a flush with changes, or an INSERT/UPDATE/DELETE statement)
  increments the generation right after its commit, before the request's response is sent (a hot write,
  ``api/writes.py``, sends that ``INCR`` in one round trip with its event: ``bump_later``);
- a read request reads the generation once, in the round trip that counts it against the rate limit
  (``ratelimit.py``), serves an entry only if it was stored under that same generation, and tags what it
  loads with the generation it read *before* loading.

So a read that starts after a write's commit never sees an entry from before it, in any API process:
read-your-write holds for the writer and everyone else. Writes that bypass this process's ORM sessions
(another tool writing to the database directly) are seen within ``ttl_s``. Without Redis (the embedded
default) nothing is cached: there is no shared place for the generation, and SQLite reads are local.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Hashable

import redis
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

log = logging.getLogger("aar.forum.hotreads")
MAX_ENTRIES = 20_000
_WROTE = "aar_forum_wrote"  # session.info flag: this transaction wrote something
_UNSEEN = "aar_forum_unseen_writes"  # session.info: its writes change nothing a cached read shows
_LATER = "aar_forum_bump_later"  # session.info: its owner sends the bumps (``bump_later``)
_DUE = "aar_forum_bump_due"  # session.info: the cache whose bump a commit of such a session left due


class HotReads:
    """Entries keyed by (read, arguments), each tagged with the generation it was loaded under."""

    def __init__(self, client: redis.Redis, key: str, ttl_s: float):
        self.client, self.key, self.ttl_s = client, key, ttl_s
        self._entries: dict[Hashable, tuple[int, float, object]] = {}
        self._lock = threading.Lock()

    def bump(self) -> None:
        """A new generation (a failure is logged: the commit stands, and other processes see it within ttl_s)."""
        try:
            self.client.incr(self.key)
        except redis.RedisError:
            log.error("hot-read cache: could not bump the generation after a write", exc_info=True)

    def get(self, key: Hashable, generation: int) -> tuple[bool, object]:
        entry = self._entries.get(key)
        if entry is None or entry[0] != generation or entry[1] < time.monotonic():
            return False, None
        return True, entry[2]

    def put(self, key: Hashable, generation: int, value: object) -> None:
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (generation, time.monotonic() + self.ttl_s, value)


_caches: dict[str, HotReads] = {}  # database URL → this process's cache of it


def _url_key(url) -> str:
    return make_url(url).render_as_string(hide_password=False)


def register(db_url: str, cache: HotReads) -> None:
    """Cache reads of ``db_url`` in this process (writes to it bump ``cache``'s generation)."""
    _caches[_url_key(db_url)] = cache


def _cache_of(session: Session) -> HotReads | None:
    if not _caches or session.bind is None:
        return None
    return _caches.get(_url_key(session.bind.engine.url))


def writes_unseen(session: Session) -> None:
    """Declare that ``session`` writes only what no cached read shows (the search embedder's vectors), so
    its commits keep the cache."""
    session.info[_UNSEEN] = True


def bump_later(session: Session) -> None:
    """Leave the bump after each commit of ``session`` to its owner, who sends it with the write's own Redis
    commands in one round trip (``RedisEventLog.publish``) or alone (``bump_due``), before it answers."""
    session.info[_LATER] = True


def take_due(session: Session) -> HotReads | None:
    """The cache whose generation the last commit of a ``bump_later`` session must bump (the caller bumps
    it: it is no longer due), or ``None``."""
    return session.info.pop(_DUE, None)


def bump_due(session: Session) -> None:
    """Bump what a commit of a ``bump_later`` session left due, if anything."""
    cache = take_due(session)
    if cache is not None:
        cache.bump()


@event.listens_for(Session, "before_flush")
def _flushing(session: Session, _context, _instances) -> None:
    if session.new or session.dirty or session.deleted:
        session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executing(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if not session.info.pop(_WROTE, False) or session.info.get(_UNSEEN):
        return
    cache = _cache_of(session)
    if cache is None:
        return
    if session.info.get(_LATER):
        session.info[_DUE] = cache
    else:
        cache.bump()
