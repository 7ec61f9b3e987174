"""Entropy minimisation and confidence sharpening (Grandvalet & Bengio 2005): cross-entropy to the teacher's
labels sharpened with a temperature, plus a ramped penalty on the student's own prediction entropy.

Distinct from ``logconf`` (Burns et al. 2023), which mixes the student's hardened predictions into the target.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from w2s.losses import EntropyMin
from w2s.methods.context import MethodContext
from w2s.methods.params import HyperParams, hyper


@dataclass(frozen=True)
class Params(HyperParams):
    coef: float = hyper(0.5, 0.0, 2.0, "weight of the student's entropy")
    temperature: float = hyper(1.0, 0.1, 2.0, "teacher target temperature; below 1 sharpens")
    warmup_frac: float = hyper(0.2, 0.0, 1.0, "fraction of training over which the entropy weight ramps up")


def run(ctx: MethodContext, params: Params | None = None, labels: np.ndarray | None = None) -> np.ndarray:
    p = params or Params()
    loss = EntropyMin(coef=p.coef, temperature=p.temperature, warmup_frac=p.warmup_frac)
    return ctx.train_student(targets=labels, loss=loss).predict_proba(ctx.targets)
