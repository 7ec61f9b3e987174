"""What one forum API process holds besides its routes: settings, the admin token, the vector index, the
background embedder, the rate limiter, the event log, the artifact store and a short-lived token cache."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import redis

from services.common.auth import Caller
from services.forum.config import ForumSettings
from services.forum.db import hotreads
from services.forum.events import EventLog, MemoryEventLog, RedisEventLog
from services.forum.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from services.forum.search.embedder import BackgroundEmbedder
from services.forum.search.vectors import VectorIndex
from services.forum.storage import ArtifactStore, make_store


@dataclass
class TokenCache:
    """token digest → caller for ``ttl_s`` seconds, saving a database round trip per request. A revocation
    clears this process's cache at once; other processes notice within ``ttl_s``."""

    ttl_s: float
    _entries: dict[str, tuple[Caller, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: str) -> Caller | None:
        entry = self._entries.get(key)
        return entry[0] if entry and entry[1] > time.monotonic() else None

    def put(self, key: str, caller: Caller) -> None:
        if self.ttl_s > 0:
            with self._lock:
                if len(self._entries) > 10_000:
                    self._entries.clear()
                self._entries[key] = (caller, time.monotonic() + self.ttl_s)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


@dataclass
class Runtime:
    settings: ForumSettings
    admin_token: str
    index: VectorIndex
    embedder: BackgroundEmbedder
    limiter: RateLimiter
    events: EventLog
    store: ArtifactStore
    tokens: TokenCache
    hot_reads: hotreads.HotReads | None = None


HOT_READS_KEY = "aar:forum:write-generation"


def build_runtime(settings: ForumSettings) -> Runtime:
    """Redis-backed limiter, event stream and hot-read cache (``db/hotreads.py``) when ``REDIS_URL`` is set;
    in-process limiter and event log and no read cache otherwise."""
    hot_reads = None
    if settings.redis_url:
        client = redis.Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
        limiter: RateLimiter = RedisRateLimiter(settings.redis_url, HOT_READS_KEY)
        events: EventLog = RedisEventLog(client, settings.events_stream, settings.events_maxlen)
        if settings.read_cache_s > 0:
            hot_reads = hotreads.HotReads(client, HOT_READS_KEY, settings.read_cache_s)
            hotreads.register(settings.db_url, hot_reads)
    else:
        limiter, events = MemoryRateLimiter(), MemoryEventLog(settings.events_maxlen)
    return Runtime(
        settings=settings,
        admin_token=settings.resolved_admin_token(),
        index=VectorIndex(settings.embedder, settings.index_reload_s),
        embedder=BackgroundEmbedder(settings.db_url, settings.embedder, settings.embed_poll_s),
        limiter=limiter,
        events=events,
        store=make_store(settings),
        tokens=TokenCache(settings.token_cache_s),
        hot_reads=hot_reads,
    )
