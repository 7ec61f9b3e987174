"""``probing``: a submission whose public predictions are a small change to an earlier one.

Every agent-visible bit about ``test_public`` is a query. Prediction submissions are one; so is a method
whose runs all predict the same whatever their teachers (``ScoreReport.spread`` at most
``AAR_SCORER_FIXED_MAX_CHANGED`` items): its outputs do not depend on training, so it is checked and
charged exactly like a prediction submission, against every earlier one of either kind.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from services.scorer.checks.registry import Finding, Observed, check
from services.scorer.contract import Flag
from w2s.scoring import ScoreReport, unpack_hard
from w2s.tasks import get_task


def accountable(report: ScoreReport, fixed_max_changed: int) -> bool:
    """Whether a report counts as a probe of ``test_public``: predictions, or a method with fixed outputs."""
    return report.method == "predictions" or (report.spread is not None and report.spread <= fixed_max_changed)


def hamming(a: np.ndarray, b: np.ndarray) -> int:
    """How many items' hard predictions differ."""
    return int(np.count_nonzero(a != b))


def probing(
    new: str, earlier: list[tuple[str, str, float]], n_items: int, max_changed: int, budget_bits: float
) -> tuple[float, dict[str, Any] | None]:
    """Probing check of a submission's hard ``test_public`` predictions (``pack_hard``) against every
    earlier accountable submission of the agent on the task: ``earlier`` holds (id, packed predictions,
    bits that submission spent).

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


@check(Flag.probing, reads={"test_public", "history"}, visible=True)
def probe(observed: Observed) -> Finding | None:
    report, settings = observed.report, observed.settings
    assert report is not None  # scored_only
    if not accountable(report, settings.fixed_max_changed):
        return None
    if report.public_hard is None:  # not reached: every report packs its hard test_public predictions
        raise ValueError("the report has no hard test_public predictions")
    n_public = len(get_task(observed.task).splits["test_public"])
    bits, evidence = probing(
        report.public_hard, observed.history(), n_public, settings.probing_max_changed, settings.probing_budget_bits
    )
    if evidence is None:
        return Finding({}, bits, flagged=False) if bits else None
    return Finding(evidence, bits)
