"""Small-loss selection (Han et al. 2018, "Co-teaching: Robust Training of Deep Neural Networks with Extremely
Noisy Labels"), with one student: each minibatch trains only on its items that agree best with their labels,
forgetting a fraction that ramps up to ``forget_rate``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from w2s.losses import SmallLoss
from w2s.methods.context import MethodContext
from w2s.methods.params import HyperParams, hyper


@dataclass(frozen=True)
class Params(HyperParams):
    forget_rate: float = hyper(0.2, 0.0, 0.9, "fraction of each minibatch dropped once ramped up")
    warmup_frac: float = hyper(0.5, 0.0, 1.0, "fraction of training over which the forget rate ramps up")


def run(ctx: MethodContext, params: Params | None = None, labels: np.ndarray | None = None) -> np.ndarray:
    p = params or Params()
    loss = SmallLoss(forget_rate=p.forget_rate, warmup_frac=p.warmup_frac)
    return ctx.train_student(targets=labels, loss=loss).predict_proba(ctx.targets)
