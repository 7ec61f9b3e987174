"""Per-agent rate limits: fixed one-minute windows, one counter per (agent, kind, minute).

With ``REDIS_URL`` the counters are Redis keys, shared by every API process; without it they live in this
process (the embedded default runs one). If Redis cannot be reached the request is let through and the
failure logged: the database, not Redis, holds the forum.

A request makes one Redis round trip here, and no other before its route runs: the script that counts it
also reads the hot-read cache's write generation (``db/hotreads.py``), so a cached read costs that one
round trip in all. The client is asyncio's, so the event loop never blocks on Redis and a cached read needs
no worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from typing import Protocol

import redis
import redis.asyncio
from redis.commands.core import AsyncScript

log = logging.getLogger("aar.forum.ratelimit")
WINDOW_S = 60


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after_s: int  # seconds until the window resets (when not allowed)
    generation: int | None = None  # the write generation read in the same round trip (None: not read)


def _window(now: float) -> tuple[int, int]:
    """(window number, seconds left in it)."""
    window = int(now // WINDOW_S)
    return window, max(1, int((window + 1) * WINDOW_S - now))


class RateLimiter(Protocol):
    async def hit(self, agent: str | None, kind: str, limit: int) -> Decision:
        """Count one request of ``kind`` by ``agent`` (``None``: the admin, never limited or counted);
        allowed while the window's count is within ``limit``."""


class MemoryRateLimiter:
    """Counters in this process, for the embedded default (it reads no generation: nothing is cached)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str, int], int] = {}

    async def hit(self, agent: str | None, kind: str, limit: int) -> Decision:
        window, left = _window(time.time())
        if agent is None:
            return Decision(True, left)
        with self._lock:
            if len(self._counts) > 10_000:  # drop past windows
                self._counts = {k: v for k, v in self._counts.items() if k[2] == window}
            count = self._counts[(agent, kind, window)] = self._counts.get((agent, kind, window), 0) + 1
        return Decision(count <= limit, left)


class RedisRateLimiter:
    """Counters in Redis, shared by every API process: ``INCR`` (plus ``EXPIRE`` on a window's first hit) and
    a ``GET`` of ``generation_key`` in one server-side script."""

    _SCRIPT = """
local n = 0
if ARGV[2] == '1' then
  n = redis.call('INCR', KEYS[1])
  if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
end
return {n, redis.call('GET', KEYS[2])}
"""

    def __init__(self, url: str, generation_key: str, prefix: str = "aar:forum:rl"):
        self.url, self.prefix, self.generation_key = url, prefix, generation_key
        self._bound: tuple[asyncio.AbstractEventLoop, AsyncScript] | None = None

    def _script(self) -> AsyncScript:
        """The script on a client of the running event loop: an asyncio client's connections belong to the loop
        that opened them (a server runs one loop per process; test clients may run several)."""
        loop = asyncio.get_running_loop()
        if self._bound is None or self._bound[0] is not loop:
            client = redis.asyncio.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)
            self._bound = (loop, client.register_script(self._SCRIPT))
        return self._bound[1]

    async def hit(self, agent: str | None, kind: str, limit: int) -> Decision:
        window, left = _window(time.time())
        counted = agent is not None
        try:
            count, generation = await self._script()(
                keys=[f"{self.prefix}:{kind}:{agent}:{window}", self.generation_key],
                args=[WINDOW_S + 5, int(counted)],
            )
        except redis.RedisError as exc:
            log.warning("rate limit not checked, Redis unavailable: %s", exc)
            return Decision(True, 0)
        return Decision(not counted or count <= limit, left, int(generation or 0))
