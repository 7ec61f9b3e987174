"""Self-training: train on the weak labels, then retrain fresh students on a mix of the weak labels and
the previous student's confident predictions, for ``rounds`` rounds (``mix``: the predictions' share)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from w2s.methods.context import MethodContext
from w2s.methods.params import HyperParams, hyper


@dataclass(frozen=True)
class Params(HyperParams):
    rounds: int = hyper(2, 1, 5, "retraining rounds")
    mix: float = hyper(0.5, 0.0, 1.0, "share of the previous student's hard predictions in the targets")


def run(ctx: MethodContext, params: Params | None = None, labels: np.ndarray | None = None) -> np.ndarray:
    p = params or Params()
    weak = ctx.weak_labels if labels is None else np.asarray(labels, dtype=np.float64)
    student = ctx.train_student(targets=weak, loss="xent")
    for _ in range(p.rounds):
        own = student.predict_proba(ctx.transfer)
        targets = (1 - p.mix) * weak + p.mix * (own > 0.5).astype(np.float64)
        student = ctx.train_student(targets=targets, loss="xent")
    return student.predict_proba(ctx.targets)
