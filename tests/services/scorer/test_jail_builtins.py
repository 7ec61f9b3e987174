"""A submitted method can reuse the parameterised built-ins: one method that imports and configures each new
built-in runs in the scorer's jail (how a search over built-ins submits its configurations)."""

from dataclasses import replace

import numpy as np

from services.scorer.jail import check_prerequisites, run_in_jail
from tests.services.scorer.test_jail_attacks import N, small_job
from w2s.embeddings import FeatureTable

CONFIGURED = {
    "gce": "q=0.5, hard=True",
    "sce": "alpha=0.5, beta=2.0",
    "entmin": "coef=1.0, temperature=0.5",
    "smallloss": "forget_rate=0.3, warmup_frac=0.2",
    "em": "rounds=1, bins=3",
}

SOURCE = f"""
import numpy as np
from w2s.methods.builtin import {", ".join(CONFIGURED)}

def run(ctx):
    outputs = [{", ".join(f"{name}.run(ctx, {name}.Params({args}))" for name, args in CONFIGURED.items())}]
    assert all(np.ptp(out) > 0 for out in outputs), [np.ptp(out) for out in outputs]  # not constants
    return np.mean(outputs, axis=0)
"""


def test_configured_builtins_run_in_the_jail():
    check_prerequisites()
    rng = np.random.default_rng(0)
    job = small_job()
    job = replace(
        job,
        weak_labels=rng.uniform(0.1, 0.9, N),
        features=FeatureTable(list(job.transfer.ids), rng.normal(size=(N, 4)).astype(np.float32)),
    )
    out = run_in_jail(job, SOURCE, timeout_s=180, memory_mb=4096)
    assert out.predictions.shape == (N,)
    assert np.ptp(out.predictions) > 0
