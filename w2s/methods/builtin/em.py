"""Label-model correction of the teacher by EM (Dawid & Skene 1979; with a classifier as the other source,
Bekker & Goldberger 2016, "Training deep neural-networks based on unreliable labels").

The teacher's output is binned (``bins=2``: its hard label; more: quantiles of its P(class 1)) and modelled
as a noisy view of the true class through a class-conditional matrix ``P(bin | class)``. Cross-fitted
students (each item predicted by a student that never trained on it) give ``P(class | x)``; EM estimates the
matrix and the posteriors ``P(class | x, bin)``; the students are retrained on the posteriors for ``rounds``
rounds, and the final student trains on the last posteriors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from w2s.methods.context import MethodContext
from w2s.methods.params import HyperParams, hyper


@dataclass(frozen=True)
class Params(HyperParams):
    rounds: int = hyper(2, 1, 5, "EM rounds, each retraining the cross-fitted students")
    bins: int = hyper(2, 2, 10, "teacher confidence bins; 2 is the teacher's hard label")
    folds: int = hyper(2, 2, 5, "cross-fitting folds")
    em_steps: int = hyper(50, 1, 500, "EM iterations per round")


def teacher_bins(weak: np.ndarray, bins: int) -> np.ndarray:
    """Bin index of each teacher probability: its hard label for 2 bins, else its quantile bin."""
    if bins == 2:
        return (weak > 0.5).astype(np.int64)
    edges = np.quantile(weak, np.linspace(0, 1, bins + 1)[1:-1])
    return np.searchsorted(edges, weak, side="right").astype(np.int64)


def em_confusion(student: np.ndarray, bins: np.ndarray, n_bins: int, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """EM for the teacher's ``P(bin | class)`` given each item's ``P(class 1 | x)`` from ``student``.

    Returns the ``(2, n_bins)`` matrix and the posteriors ``P(class 1 | x, bin)``. The matrix starts from
    the student's own soft assignment and is smoothed by one pseudo-count per cell.
    """
    f = np.clip(np.asarray(student, dtype=np.float64), 1e-6, 1 - 1e-6)
    onehot = np.eye(n_bins)[bins]
    posterior = f
    matrix = np.full((2, n_bins), 1.0 / n_bins)
    for _ in range(steps):
        weights = np.stack([1 - posterior, posterior])  # (2, n): P(class | ...)
        counts = weights @ onehot + 1.0
        matrix = counts / counts.sum(axis=1, keepdims=True)
        positive = f * matrix[1, bins]
        posterior = positive / (positive + (1 - f) * matrix[0, bins])
    return matrix, posterior


def cross_fit(ctx: MethodContext, targets: np.ndarray, folds: int) -> np.ndarray:
    """P(class 1) of each transfer item from a student trained on the other folds."""
    order = ctx.rng.permutation(len(targets))
    out = np.empty(len(targets))
    for held in np.array_split(order, folds):
        train = np.setdiff1d(order, held)
        student = ctx.train_student(ctx.transfer.take(train), targets[train])
        out[held] = student.predict_proba(ctx.transfer.take(held))
    return out


def relabel(ctx: MethodContext, labels: np.ndarray, params: Params | None = None) -> np.ndarray:
    """The EM posteriors ``P(class 1 | x, bin)`` of the teacher's ``labels``, after ``rounds`` rounds."""
    p = params or Params()
    labels = np.asarray(labels, dtype=np.float64)
    bins, targets = teacher_bins(labels, p.bins), labels
    for _ in range(p.rounds):
        _, targets = em_confusion(cross_fit(ctx, targets, p.folds), bins, p.bins, p.em_steps)
    return targets


def run(ctx: MethodContext, params: Params | None = None, labels: np.ndarray | None = None) -> np.ndarray:
    targets = relabel(ctx, ctx.weak_labels if labels is None else labels, params)
    return ctx.train_student(targets=targets).predict_proba(ctx.targets)
