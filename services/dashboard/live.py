"""The live view of one task: the scorer's leaderboard (admin view) and its newest submissions, cached for
``AAR_DASHBOARD_LIVE_CACHE_S`` so that any number of open pages polling every ~2 s cost the scorer two
requests per task per cache period."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import UTC, datetime

from services.dashboard import views
from services.dashboard.contract import LeaderboardView, LiveState
from services.dashboard.upstream import Upstreams, public_pgr

RECENT = 25


def leaderboard(upstreams: Upstreams, task: str) -> LeaderboardView:
    """The scorer's leaderboard, each row with the full-precision public PGR of the submission behind it."""
    board = upstreams.scorer.leaderboard(task)
    rows = [views.leader_row(e, public_pgr(upstreams.submission(e.submission_id))) for e in board.entries]
    return LeaderboardView(task=board.task, finalised=board.finalised, rows=rows)


class LiveView:
    """``state(task)``, recomputed at most once per ``ttl_s`` per task."""

    def __init__(self, upstreams: Upstreams, ttl_s: float):
        self.upstreams, self.ttl_s = upstreams, ttl_s
        self._cache: dict[str, tuple[float, LiveState]] = {}
        self._lock = threading.Lock()

    def state(self, task: str) -> LiveState:
        with self._lock:
            cached = self._cache.get(task)
            if cached and time.monotonic() - cached[0] < self.ttl_s:
                return cached[1]
        board = leaderboard(self.upstreams, task)
        recent = [views.submission_row(s) for s in self.upstreams.scorer.submissions(task=task, limit=RECENT).data]
        digest = hashlib.sha256(
            (board.model_dump_json() + "".join(r.model_dump_json() for r in recent)).encode()
        ).hexdigest()[:16]
        state = LiveState(task=task, version=digest, at=datetime.now(UTC), leaderboard=board, recent=recent)
        with self._lock:
            self._cache[task] = (time.monotonic(), state)
        return state
