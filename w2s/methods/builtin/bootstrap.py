"""Self-training: train on the weak labels, then retrain fresh students on a mix of the weak labels and
the previous student's confident predictions, for ``ROUNDS`` rounds."""

import numpy as np

from w2s.methods.context import MethodContext

ROUNDS = 2
MIX = 0.5


def run(ctx: MethodContext) -> np.ndarray:
    student = ctx.train_student(loss="xent")
    targets = ctx.weak_labels
    for _ in range(ROUNDS):
        own = student.predict_proba(ctx.transfer)
        targets = (1 - MIX) * ctx.weak_labels + MIX * (own > 0.5).astype(np.float64)
        student = ctx.train_student(targets=targets, loss="xent")
    return student.predict_proba(ctx.targets)
