"""Generalized cross-entropy (Zhang & Sabuncu 2018, "Generalized Cross Entropy Loss for Training Deep Neural
Networks with Noisy Labels"): train on the teacher's labels with a loss between cross-entropy and MAE."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from w2s.losses import GCE
from w2s.methods.context import MethodContext
from w2s.methods.params import HyperParams, hyper


@dataclass(frozen=True)
class Params(HyperParams):
    q: float = hyper(0.7, 0.0, 1.0, "0 is cross-entropy, 1 is MAE")
    hard: bool = False


def run(ctx: MethodContext, params: Params | None = None, labels: np.ndarray | None = None) -> np.ndarray:
    p = params or Params()
    return ctx.train_student(targets=labels, loss=GCE(q=p.q, hard=p.hard)).predict_proba(ctx.targets)
