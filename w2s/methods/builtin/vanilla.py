"""Naive W2S: train the student on the teacher's soft labels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from w2s.methods.context import MethodContext
from w2s.methods.params import HyperParams


@dataclass(frozen=True)
class Params(HyperParams):
    """No hyper-parameters."""


def run(ctx: MethodContext, params: Params | None = None, labels: np.ndarray | None = None) -> np.ndarray:
    return ctx.train_student(targets=labels, loss="xent").predict_proba(ctx.targets)
