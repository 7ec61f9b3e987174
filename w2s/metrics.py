"""Accuracy, AUROC, PGR and confidence intervals."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of items whose thresholded probability (> 0.5) matches the label."""
    return float(np.mean((np.asarray(probs) > 0.5).astype(int) == np.asarray(labels)))


def auroc(probs: np.ndarray, labels: np.ndarray) -> float | None:
    """Area under the ROC curve; ``None`` when only one class is present."""
    from sklearn.metrics import roc_auc_score

    labels = np.asarray(labels)
    if labels.min() == labels.max():
        return None
    return float(roc_auc_score(labels, probs))


def pgr(student_acc: float, weak_acc: float, ceiling_acc: float) -> float | None:
    """Performance gap recovered: ``(student - weak) / (ceiling - weak)``.

    ``None`` when the ceiling is at or below the weak accuracy (the gap is empty, so PGR is undefined).
    """
    gap = ceiling_acc - weak_acc
    if gap <= 1e-12:
        return None
    return (student_acc - weak_acc) / gap


def mean_ci95(values: Sequence[float]) -> tuple[float, float | None]:
    """Mean and the half-width of its 95% Student-t confidence interval (``None`` for one value)."""
    from scipy import stats

    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        raise ValueError("no values to summarise")
    mean = float(x.mean())
    if x.size < 2:
        return mean, None
    half = float(stats.t.ppf(0.975, df=x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return mean, half
