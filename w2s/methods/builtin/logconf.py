"""Auxiliary log-confidence loss (Burns et al. 2023), with a warm-up that ramps to the full weight."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from w2s.losses import LogConf
from w2s.methods.context import MethodContext
from w2s.methods.params import HyperParams, hyper


@dataclass(frozen=True)
class Params(HyperParams):
    aux: float = hyper(0.5, 0.0, 1.0, "weight of the student's own hardened predictions as targets")
    warmup: float = hyper(0.2, 0.0, 1.0, "fraction of training over which that weight ramps up")


def run(ctx: MethodContext, params: Params | None = None, labels: np.ndarray | None = None) -> np.ndarray:
    p = params or Params()
    loss = LogConf(aux_coef=p.aux, warmup_frac=p.warmup)
    return ctx.train_student(targets=labels, loss=loss).predict_proba(ctx.targets)
