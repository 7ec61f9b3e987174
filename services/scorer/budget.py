"""The compute budget, checked before a method job starts (never after)."""

from __future__ import annotations

from services.common.db import session_scope
from services.scorer.config import ScorerSettings
from services.scorer.db import crud
from w2s.errors import W2SError


class ComputeBudgetExceeded(W2SError):
    """The agent's compute left today cannot cover the job's worst case (its time limit)."""


def check_budget(url: str, agent_id: int, settings: ScorerSettings) -> None:
    """Refuse a method job before it starts when the agent's remaining compute seconds cannot cover its
    worst case: the job time limit, which bounds all of its runs together."""
    with session_scope(url) as db:
        left = settings.compute_seconds_per_day - crud.quota_usage(session=db, agent_id=agent_id).compute_seconds
    if left < settings.job_time_limit_s:
        raise ComputeBudgetExceeded(
            f"compute budget exceeded: {max(left, 0.0):.0f} s left today, and this job may use up to "
            f"{settings.job_time_limit_s} s; it was not run"
        )
