"""Symmetric cross-entropy (Wang et al. 2019, "Symmetric Cross Entropy for Robust Learning with Noisy Labels"):
cross-entropy to the teacher's labels plus the bounded reverse cross-entropy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from w2s.losses import SCE
from w2s.methods.context import MethodContext
from w2s.methods.params import HyperParams, hyper


@dataclass(frozen=True)
class Params(HyperParams):
    alpha: float = hyper(1.0, 0.0, 10.0, "weight of cross-entropy")
    beta: float = hyper(1.0, 0.0, 10.0, "weight of reverse cross-entropy")
    hard: bool = False


def run(ctx: MethodContext, params: Params | None = None, labels: np.ndarray | None = None) -> np.ndarray:
    p = params or Params()
    return ctx.train_student(targets=labels, loss=SCE(alpha=p.alpha, beta=p.beta, hard=p.hard)).predict_proba(
        ctx.targets
    )
