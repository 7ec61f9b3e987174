"""Neighbour-consistency elicitation: denoise the weak labels with the strong model's own representation.

Each transfer item's label becomes the mean weak label of its ``k`` nearest neighbours (cosine) in the
strong model's frozen embedding space, so labels that disagree with the structure the strong model
already sees are outvoted. The student is then trained on the smoothed labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from w2s.methods.context import MethodContext
from w2s.methods.params import HyperParams, hyper

BLOCK = 1024


@dataclass(frozen=True)
class Params(HyperParams):
    k: int = hyper(15, 1, 100, "neighbours each label is averaged over")


def relabel(ctx: MethodContext, labels: np.ndarray, params: Params | None = None) -> np.ndarray:
    """``labels`` (one per transfer item) smoothed over each item's ``k`` nearest neighbours."""
    k = (params or Params()).k
    x = ctx.features(ctx.transfer)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    labels = np.asarray(labels, dtype=np.float64)
    smoothed = np.empty_like(labels)
    for start in range(0, len(x), BLOCK):
        sims = x[start : start + BLOCK] @ x.T
        neighbours = np.argpartition(-sims, k, axis=1)[:, : k + 1]  # includes the item itself
        smoothed[start : start + BLOCK] = labels[neighbours].mean(axis=1)
    return smoothed


def run(ctx: MethodContext, params: Params | None = None, labels: np.ndarray | None = None) -> np.ndarray:
    smoothed = relabel(ctx, ctx.weak_labels if labels is None else labels, params)
    return ctx.train_student(targets=smoothed, loss="xent").predict_proba(ctx.targets)
