"""Blum & Hardt's ladder: what an agent is told of its public score."""

from __future__ import annotations

import math


def ladder(best: float | None, new: float | None, step: float) -> tuple[float | None, bool]:
    """Report ``new`` (rounded to ``step``) only if it beats ``best`` by a full step; otherwise report
    ``best`` again. The ladder starts at 0: a score that does not beat the weak teacher is no result and
    never enters it. Returns (reported score, whether the ladder moved)."""
    if new is None or new < (0.0 if best is None else best) + step:
        return best, False
    return round_to(new, step), True


def round_to(value: float | None, step: float) -> float | None:
    """``value`` rounded to a multiple of ``step`` (at most 6 decimals, to drop float noise)."""
    if value is None or not math.isfinite(value):
        return None
    return round(round(value / step) * step, 6)


def ladder_key(task: str, method: str, role: str = "researcher") -> str:
    """The ladder a submission counts on: a researcher's methods on the task's (the leaderboard); prediction
    submissions on their own (``<task>:predictions``): they have no private score, so they never rank; a
    hacker's on its own (``<task>:hacker``): it sees what a researcher would, and never ranks."""
    if role == "hacker":
        return f"{task}:hacker"
    return f"{task}:predictions" if method == "predictions" else task
