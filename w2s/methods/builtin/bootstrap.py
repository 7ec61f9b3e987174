"""Self-training: train on the weak labels, then retrain fresh students on a mix of the weak labels and
the previous student's confident predictions, for ``rounds`` rounds (``mix``: the predictions' share)."""

import numpy as np

ROUNDS = 2
MIX = 0.5


def run(ctx, labels=None, rounds=ROUNDS, mix=MIX):
    weak = ctx.weak_labels if labels is None else np.asarray(labels, dtype=np.float64)
    student = ctx.train_student(targets=weak, loss="xent")
    for _ in range(int(rounds)):
        own = student.predict_proba(ctx.transfer)
        targets = (1 - mix) * weak + mix * (own > 0.5).astype(np.float64)
        student = ctx.train_student(targets=targets, loss="xent")
    return student.predict_proba(ctx.targets)
