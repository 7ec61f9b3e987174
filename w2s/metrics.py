"""Accuracy, AUROC, PGR and confidence intervals."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of items whose thresholded probability (> 0.5) matches the label."""
    return float(np.mean((np.asarray(probs) > 0.5).astype(int) == np.asarray(labels)))


def auroc(probs: np.ndarray, labels: np.ndarray) -> float | None:
    """Area under the ROC curve; ``None`` when only one class is present.

    The Mann-Whitney form: the chance that a random positive is ranked above a random negative, ties counting
    one half (equal to scikit-learn's ``roc_auc_score``; ``tests/w2s/test_metrics.py``), from one sort in
    numpy. Importing ``sklearn.metrics`` cost a fresh process about 2 s."""
    labels = np.asarray(labels).astype(bool)
    positives = int(labels.sum())
    negatives = labels.size - positives
    if positives == 0 or negatives == 0:
        return None
    scores = np.asarray(probs, dtype=np.float64)
    order = np.argsort(scores, kind="mergesort")
    ordered = scores[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])  # first position of each run of ties
    counts = np.diff(np.r_[starts, scores.size])
    ranks = np.empty(scores.size)
    ranks[order] = np.repeat(starts + (counts + 1) / 2, counts)  # 1-based ranks, ties share their mean
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def pgr(student_acc: float, weak_acc: float, ceiling_acc: float) -> float | None:
    """Performance gap recovered: ``(student - weak) / (ceiling - weak)``.

    ``None`` when the ceiling is at or below the weak accuracy (the gap is empty, so PGR is undefined).
    """
    gap = ceiling_acc - weak_acc
    if gap <= 1e-12:
        return None
    return (student_acc - weak_acc) / gap


def mean_ci95(values: Sequence[float]) -> tuple[float, float | None]:
    """Mean and the half-width of its 95% Student-t confidence interval (``None`` for one value). The quantile
    is ``scipy.special.stdtrit``, what ``scipy.stats.t.ppf`` calls, without importing ``scipy.stats`` (about
    1 s in a fresh process)."""
    from scipy.special import stdtrit

    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        raise ValueError("no values to summarise")
    mean = float(x.mean())
    if x.size < 2:
        return mean, None
    half = float(stdtrit(x.size - 1, 0.975) * x.std(ddof=1) / math.sqrt(x.size))
    return mean, half
