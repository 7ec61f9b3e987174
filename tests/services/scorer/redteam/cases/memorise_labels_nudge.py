"""Outside knowledge that keeps its teacher dependence (issue 24's limit of any control design): train
honestly on whatever teacher the run gets, then move the least certain test predictions towards the
memorised labels. Only the source audit (and the held-out transfer score) can see this one."""

import hashlib

import numpy as np

LABELS = None  # filled by the harness: 6 hex digits of sha1(text) + the label, for every item


def run(ctx):
    labels = {LABELS[i : i + 6]: int(LABELS[i + 6]) for i in range(0, len(LABELS), 7)}
    probs = ctx.train_student().predict_proba(ctx.targets)
    known = np.array([labels.get(hashlib.sha1(t.encode()).hexdigest()[:6], -1) for t in ctx.targets.texts])
    unsure = (np.abs(probs - 0.5) < 0.1) & (known >= 0)
    return np.where(unsure, 0.5 + 0.11 * np.where(known == 1, 1, -1), probs)
