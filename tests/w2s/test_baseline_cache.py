import pytest

import w2s.baselines as baselines
import w2s.tasks
from tests.utils.tasks import fresh_task
from w2s.scoring import score_method
from w2s.tasks import TrainConfig


@pytest.fixture
def compute_calls(monkeypatch):
    """Count real baseline computations."""
    calls = []
    real = baselines.compute_baseline

    def counting(task, seed, device):
        calls.append((task.name, seed))
        return real(task, seed, device)

    monkeypatch.setattr(baselines, "compute_baseline", counting)
    return calls


def test_warm_baselines_are_never_recomputed(compute_calls):
    task = fresh_task()
    first = score_method(task.name, "vanilla", 2)
    assert len(compute_calls) == 2
    second = score_method(task.name, "hard", 2)
    assert len(compute_calls) == 2, "warm baselines were recomputed"
    assert first.splits["test_public"].weak_acc == second.splits["test_public"].weak_acc
    assert baselines.load_cached(task, 0) is not None


def test_cache_misses_when_any_part_of_the_key_changes(compute_calls, monkeypatch):
    task = fresh_task()
    baselines.get_baseline(task, 0, "cpu")
    baselines.get_baseline(task, 0, "cpu")
    assert len(compute_calls) == 1
    baselines.get_baseline(task, 1, "cpu")  # another seed
    assert len(compute_calls) == 2
    changed = task.model_copy(update={"strong_train": TrainConfig(epochs=3)})  # hyper-parameters
    baselines.get_baseline(changed, 0, "cpu")
    assert len(compute_calls) == 3
    other_models = task.model_copy(update={"weak": task.weak.model_copy(update={"embedder": "minilm"})})
    baselines.get_baseline(other_models, 0, "cpu")
    assert len(compute_calls) == 4
    monkeypatch.setattr(w2s.tasks, "ENGINE_VERSION", "999.0")  # engine version
    baselines.get_baseline(task, 0, "cpu")
    assert len(compute_calls) == 5
    monkeypatch.undo()


def test_seeds_give_different_teachers():
    task = fresh_task()
    a, _ = baselines.get_baseline(task, 0, "cpu")
    b, _ = baselines.get_baseline(task, 1, "cpu")
    assert a.weak_labels != b.weak_labels
