"""A method's context offers no path to any ground-truth label."""

import gc
import sys
import types

import numpy as np
import pytest

from w2s.baselines import get_baseline
from w2s.datasets import Dataset, Example
from w2s.scoring import make_job
from w2s.splits import Split
from w2s.tasks import TASKS, Task


def reachable(root, limit=200_000):
    """Every object reachable from ``root``, not following modules, classes or module globals."""
    module_dicts = {id(m.__dict__) for m in list(sys.modules.values()) if m is not None}
    seen, stack, out = set(), [root], []
    while stack and len(out) < limit:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (types.ModuleType, type)) or id(obj) in module_dicts:
            continue
        seen.add(id(obj))
        out.append(obj)
        stack.extend(gc.get_referents(obj))
    return out


@pytest.fixture(scope="module")
def task_and_job():
    task = TASKS["rt-polarity"]
    baseline, _ = get_baseline(task, 0, "cpu")
    targets = task.splits["test_public"].inputs + task.splits["test_private"].inputs
    return task, make_job(task, baseline, targets)


@pytest.fixture(scope="module", params=["context", "job"])
def root(request, task_and_job):
    """What a method reaches: its context, and the job bundle that the scorer ships into its jail."""
    _, job = task_and_job
    return job.context("cpu") if request.param == "context" else job


def test_no_label_carrying_object_is_reachable(root):
    objects = reachable(root)
    assert len(objects) > 100  # the walk really went through the context
    leaked = [type(o).__name__ for o in objects if isinstance(o, (Task, Dataset, Split, Example))]
    assert leaked == []


def test_no_array_or_list_equals_any_split_labels(root, task_and_job):
    task, _ = task_and_job
    secrets = {name: split.labels for name, split in task.splits.items()}
    secrets["targets"] = np.concatenate([task.splits["test_public"].labels, task.splits["test_private"].labels])
    for obj in reachable(root):
        if isinstance(obj, (np.ndarray, list, tuple)) and len(obj) in {len(v) for v in secrets.values()}:
            try:
                values = np.asarray(obj, dtype=np.float64)
            except (TypeError, ValueError):
                continue
            for name, labels in secrets.items():
                if values.shape == labels.shape:
                    assert not np.array_equal(values, labels), f"labels of {name} reachable"
                    assert not np.array_equal(values, 1 - labels), f"inverted labels of {name} reachable"


def test_features_only_cover_transfer_and_targets(task_and_job):
    task, job = task_and_job
    ctx = job.context("cpu")
    assert ctx.features(ctx.targets.take([0, 1])).shape == (2, 384)
    with pytest.raises(KeyError, match="not among the known inputs"):
        ctx.features(task.splits["train_label"].inputs.take([0]))


def test_weak_labels_are_read_only_and_seed_is_fixed(task_and_job):
    ctx = task_and_job[1].context("cpu")
    with pytest.raises(ValueError):
        ctx.weak_labels[0] = 1.0
    with pytest.raises(AttributeError):
        ctx.seed = 7


def test_a_saved_job_round_trips_and_runs_out_of_process(task_and_job, tmp_path):
    from w2s.jobs import MethodJob, main

    _, job = task_and_job
    job.save(tmp_path)
    loaded = MethodJob.load(tmp_path)
    assert loaded.transfer == job.transfer and loaded.targets == job.targets
    assert np.array_equal(loaded.weak_labels, job.weak_labels)
    method = tmp_path / "m.py"
    method.write_text("def run(ctx):\n    return ctx.train_student().predict_proba(ctx.targets)\n")
    assert main([str(tmp_path), str(method)]) == 0
    assert np.load(tmp_path / "predictions.npy").shape == (len(job.targets),)
