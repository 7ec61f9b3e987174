"""Per-agent rate limits: fixed one-minute windows, one counter per (agent, kind, minute).

With ``REDIS_URL`` the counters are Redis keys (``INCR`` + ``EXPIRE`` in one script call), shared by every
API process; without it they live in this process (the embedded default runs one). If Redis cannot be
reached the request is let through and the failure logged: the database, not Redis, holds the forum.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Protocol

import redis

log = logging.getLogger("aar.forum.ratelimit")
WINDOW_S = 60


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after_s: int  # seconds until the window resets (when not allowed)


def _window(now: float) -> tuple[int, int]:
    """(window number, seconds left in it)."""
    window = int(now // WINDOW_S)
    return window, max(1, int((window + 1) * WINDOW_S - now))


class RateLimiter(Protocol):
    def hit(self, agent: str, kind: str, limit: int) -> Decision:
        """Count one request of ``kind`` by ``agent``; allowed while the window's count is within ``limit``."""


class MemoryRateLimiter:
    """Counters in this process, for the embedded default."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str, int], int] = {}

    def hit(self, agent: str, kind: str, limit: int) -> Decision:
        window, left = _window(time.time())
        with self._lock:
            if len(self._counts) > 10_000:  # drop past windows
                self._counts = {k: v for k, v in self._counts.items() if k[2] == window}
            count = self._counts[(agent, kind, window)] = self._counts.get((agent, kind, window), 0) + 1
        return Decision(count <= limit, left)


class RedisRateLimiter:
    """Counters in Redis, shared by every API process: one ``INCR`` (plus ``EXPIRE`` on a window's first hit)
    in a server-side script, so a request costs one round trip."""

    _SCRIPT = "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end return n"

    def __init__(self, client: redis.Redis, prefix: str = "aar:forum:rl"):
        self.prefix = prefix
        self._count = client.register_script(self._SCRIPT)

    def hit(self, agent: str, kind: str, limit: int) -> Decision:
        window, left = _window(time.time())
        try:
            count = self._count(keys=[f"{self.prefix}:{kind}:{agent}:{window}"], args=[WINDOW_S + 5])
        except redis.RedisError as exc:
            log.warning("rate limit not checked, Redis unavailable: %s", exc)
            return Decision(True, 0)
        return Decision(count <= limit, left)
