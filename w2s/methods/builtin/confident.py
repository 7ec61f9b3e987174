"""Train only on the teacher's most confident labels (the published human baseline).

Keeps the ``keep`` fraction of transfer items with the largest |p - 0.5|, chosen per predicted class
so the kept set stays balanced as the teacher's labels are.
"""

import numpy as np

KEEP = 0.5


def select(labels, keep=KEEP):
    """Sorted indices of the most confident fraction ``keep`` of each predicted class of ``labels``."""
    confidence = np.abs(labels - 0.5)
    chosen = []
    for positive in (False, True):
        members = np.flatnonzero((labels > 0.5) == positive)
        ranked = members[np.argsort(-confidence[members], kind="stable")]
        chosen.extend(ranked[: max(1, int(len(ranked) * keep))].tolist())
    return np.sort(np.array(chosen))


def run(ctx, labels=None, keep=KEEP):
    labels = ctx.weak_labels if labels is None else np.asarray(labels, dtype=np.float64)
    chosen = select(labels, keep)
    student = ctx.train_student(ctx.transfer.take(chosen), labels[chosen], loss="hard")
    return student.predict_proba(ctx.targets)
