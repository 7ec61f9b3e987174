"""Auxiliary log-confidence loss (Burns et al. 2023), with a warm-up that ramps to the full weight."""

import numpy as np

from w2s.losses import LogConf
from w2s.methods.context import MethodContext


def run(ctx: MethodContext) -> np.ndarray:
    return ctx.train_student(loss=LogConf(aux_coef=0.5, warmup_frac=0.2)).predict_proba(ctx.targets)
