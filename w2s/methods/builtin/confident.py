"""Train only on the teacher's most confident labels (the published human baseline).

Keeps the ``KEEP`` fraction of transfer items with the largest |p - 0.5|, chosen per predicted class
so the kept set stays balanced as the teacher's labels are.
"""

import numpy as np

from w2s.methods.context import MethodContext

KEEP = 0.5


def run(ctx: MethodContext) -> np.ndarray:
    weak = ctx.weak_labels
    confidence = np.abs(weak - 0.5)
    keep: list[int] = []
    for positive in (False, True):
        members = np.flatnonzero((weak > 0.5) == positive)
        ranked = members[np.argsort(-confidence[members], kind="stable")]
        keep.extend(ranked[: max(1, int(len(ranked) * KEEP))].tolist())
    kept = np.sort(np.array(keep))
    student = ctx.train_student(ctx.transfer.take(kept), weak[kept], loss="hard")
    return student.predict_proba(ctx.targets)
