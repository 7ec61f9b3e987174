"""Train only on the teacher's most confident labels (the published human baseline).

Keeps the ``keep`` fraction of transfer items with the largest |p - 0.5|, chosen per predicted class
so the kept set stays balanced as the teacher's labels are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from w2s.methods.context import MethodContext
from w2s.methods.params import HyperParams, hyper


@dataclass(frozen=True)
class Params(HyperParams):
    keep: float = hyper(0.5, 0.05, 1.0, "fraction of each predicted class kept, most confident first")


def select(labels: np.ndarray, keep: float) -> np.ndarray:
    """Sorted indices of the most confident fraction ``keep`` of each predicted class of ``labels``."""
    confidence = np.abs(labels - 0.5)
    chosen: list[int] = []
    for positive in (False, True):
        members = np.flatnonzero((labels > 0.5) == positive)
        ranked = members[np.argsort(-confidence[members], kind="stable")]
        chosen.extend(ranked[: max(1, int(len(ranked) * keep))].tolist())
    return np.sort(np.array(chosen))


def run(ctx: MethodContext, params: Params | None = None, labels: np.ndarray | None = None) -> np.ndarray:
    source = ctx.weak_labels if labels is None else np.asarray(labels, dtype=np.float64)
    chosen = select(source, (params or Params()).keep)
    student = ctx.train_student(ctx.transfer.take(chosen), source[chosen], loss="hard")
    return student.predict_proba(ctx.targets)
