"""Neighbour-consistency elicitation: denoise the weak labels with the strong model's own representation.

Each transfer item's label becomes the mean weak label of its ``K`` nearest neighbours (cosine) in the
strong model's frozen embedding space, so labels that disagree with the structure the strong model
already sees are outvoted. The student is then trained on the smoothed labels.
"""

import numpy as np

from w2s.methods.context import MethodContext

K = 15
BLOCK = 1024


def run(ctx: MethodContext) -> np.ndarray:
    x = ctx.features(ctx.transfer)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    weak = ctx.weak_labels
    smoothed = np.empty_like(weak)
    for start in range(0, len(x), BLOCK):
        sims = x[start : start + BLOCK] @ x.T
        neighbours = np.argpartition(-sims, K, axis=1)[:, : K + 1]  # includes the item itself
        smoothed[start : start + BLOCK] = weak[neighbours].mean(axis=1)
    return ctx.train_student(targets=smoothed, loss="xent").predict_proba(ctx.targets)
