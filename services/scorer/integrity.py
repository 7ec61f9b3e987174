"""Gaming resistance: the ladder, the probing budget, the teacher-dependence control, the ceiling band.

Every check here reads what the trusted side computed (``w2s.scoring.ScoreReport``); none trusts
anything a method reports about itself. ``docs/scorer.md`` ("How the score resists gaming") lists each
known trick, the check that catches it and the test that proves it.
"""

from __future__ import annotations

import math

import numpy as np

from w2s.metrics import mean_ci95
from w2s.scoring import ScoreReport, unpack_hard

JAIL_VIOLATIONS = {"hidden_path", "network", "env_probe", "privileged_call"}


def ladder(best: float | None, new: float | None, step: float) -> tuple[float | None, bool]:
    """Blum & Hardt's ladder: report ``new`` (rounded to ``step``) only if it beats ``best`` by a full
    step; otherwise report ``best`` again. The ladder starts at 0: a score that does not beat the weak
    teacher is no result and never enters it. Returns (reported score, whether the ladder moved)."""
    if new is None or new < (0.0 if best is None else best) + step:
        return best, False
    return round_to(new, step), True


def round_to(value: float | None, step: float) -> float | None:
    """``value`` rounded to a multiple of ``step`` (at most 6 decimals, to drop float noise)."""
    if value is None or not math.isfinite(value):
        return None
    return round(round(value / step) * step, 6)


def ladder_key(task: str, method: str) -> str:
    """The ladder a submission counts on: methods on the task's (the leaderboard); prediction submissions
    on their own (``<task>:predictions``): they run no control and have no private score, so they never rank."""
    return f"{task}:predictions" if method == "predictions" else task


def shown_flags(flags: list[str]) -> list[str]:
    """The flags an agent sees: with ``probing`` among them, only that one, so the other checks (each a
    threshold on accuracy) cannot answer a probe's question. Admins see every flag with its evidence."""
    return ["probing"] if "probing" in flags else flags


def teacher_dependence(report: ScoreReport) -> float | None:
    """How much the method's accuracy follows its teacher, from the control runs: 1 when an inverted
    teacher mirrors the accuracy around one half (the method learns what its teacher says), 0 when the
    inverted teacher changes nothing (the method ignores its teacher). ``None`` without controls or when
    the real runs are no better than chance (nothing to compare)."""
    values = []
    for control in report.controls:
        real = control.real_student_acc
        if real is None or real <= 0.5 + 1e-9:
            continue
        values.append((real - control.student_acc) / (2 * real - 1))
    return float(np.mean(values)) if values else None


def beyond_ceiling(report: ScoreReport, min_margin: float) -> dict | None:
    """The evidence when a split's student accuracy beats the strong ceiling (trained on ground truth)
    by more than both the 95% confidence interval of the per-seed differences and ``min_margin``: a
    student trained on weak labels cannot do that honestly, so the labels came from somewhere else."""
    for name, split in report.splits.items():
        diffs = [
            s - c
            for s, c in zip(split.student_acc.per_seed, split.ceiling_acc.per_seed, strict=True)
            if s is not None and c is not None
        ]
        if not diffs:
            continue
        mean, half = mean_ci95(diffs)
        if mean > max(half or 0.0, min_margin):
            return {"split": name, "student_minus_ceiling": round(mean, 4), "ci95": half}
    return None


def hamming(a: np.ndarray, b: np.ndarray) -> int:
    """How many items' hard predictions differ."""
    return int(np.count_nonzero(a != b))


def probing(
    new: str, earlier: list[tuple[str, str, float]], n_items: int, max_changed: int, budget_bits: float
) -> tuple[float, dict | None]:
    """Probing check of a submission's hard ``test_public`` predictions (``pack_hard``) against every
    earlier submission of the same agent on the task (all of them, not a window): ``earlier`` holds
    (id, packed predictions, bits that submission spent).

    A submission within ``4 × max_changed`` items of an earlier one is a probe: comparing the two scores
    tells the agent how many of those ``d`` items are right, up to ``log2(d + 1)`` bits about a few
    labels. Returns the bits this submission spends and, when it must be flagged, the evidence: a probe
    with ``d ≤ max_changed``, or one that takes the agent's bits over ``budget_bits``.
    """
    if not earlier:
        return 0.0, None
    mine = unpack_hard(new, n_items)
    like, d = min(
        ((sid, hamming(mine, unpack_hard(packed, n_items))) for sid, packed, _ in earlier), key=lambda x: x[1]
    )
    if d == 0 or d > 4 * max_changed:
        return 0.0, None
    bits = math.log2(d + 1)
    spent = bits + sum(b for _, _, b in earlier)
    if d <= max_changed or spent > budget_bits:
        return bits, {"like": like, "changed_items": d, "bits_spent": round(spent, 2), "budget_bits": budget_bits}
    return bits, None
