"""Gaming resistance: the ladder, the probing detector, the teacher-independence control."""

from __future__ import annotations

import math

JAIL_VIOLATIONS = {"hidden_path", "network", "env_probe", "privileged_call"}


def ladder(best: float | None, new: float | None, step: float) -> tuple[float | None, bool]:
    """Blum & Hardt's ladder: report ``new`` (rounded to ``step``) only if it beats ``best`` by a full
    step; otherwise report ``best`` again. Returns (reported score, whether the ladder moved)."""
    if new is None or (best is not None and new < best + step):
        return best, False
    return round_to(new, step), True


def round_to(value: float | None, step: float) -> float | None:
    """``value`` rounded to a multiple of ``step`` (at most 6 decimals, to drop float noise)."""
    if value is None or not math.isfinite(value):
        return None
    return round(round(value / step) * step, 6)


def changed_items(a: dict[str, float], b: dict[str, float]) -> int:
    """How many items' hard predictions (> 0.5) differ between two prediction sets over the same ids."""
    return sum((a[k] > 0.5) != (b.get(k, 0.5) > 0.5) for k in a)


def probing_match(new: dict[str, float], earlier: list[tuple[str, dict[str, float]]], max_changed: int) -> dict | None:
    """The earlier submission that ``new`` differs from in only 1..``max_changed`` items, if any."""
    for submission_id, old in earlier:
        n = changed_items(new, old)
        if 0 < n <= max_changed:
            return {"like": submission_id, "changed_items": n}
    return None


def teacher_independent(student_acc: float, control_acc: float, tolerance: float) -> bool:
    """True when training on shuffled weak labels scores within ``tolerance`` of the real run."""
    return abs(student_acc - control_acc) <= tolerance
