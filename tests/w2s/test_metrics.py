import math

import numpy as np
import pytest

from w2s.metrics import accuracy, auroc, mean_ci95, pgr
from w2s.scoring import _pgr_stat


def test_pgr_is_the_fraction_of_the_gap_recovered():
    assert pgr(0.70, 0.60, 0.80) == pytest.approx(0.5)
    assert pgr(0.80, 0.60, 0.80) == pytest.approx(1.0)
    assert pgr(0.60, 0.60, 0.80) == pytest.approx(0.0)


def test_pgr_can_leave_zero_to_one():
    assert pgr(0.55, 0.60, 0.80) == pytest.approx(-0.25)
    assert pgr(0.85, 0.60, 0.80) == pytest.approx(1.25)


@pytest.mark.parametrize("weak,ceiling", [(0.7, 0.7), (0.75, 0.7)])
def test_pgr_is_undefined_without_a_gap(weak, ceiling):
    assert pgr(0.8, weak, ceiling) is None


def test_mean_ci95_matches_student_t():
    mean, half = mean_ci95([1.0, 2.0, 3.0])
    assert mean == pytest.approx(2.0)
    assert half == pytest.approx(4.302652729911275 * 1.0 / math.sqrt(3))
    assert mean_ci95([0.4]) == (0.4, None)
    with pytest.raises(ValueError):
        mean_ci95([])


def test_accuracy_and_auroc():
    labels = np.array([0, 0, 1, 1])
    assert accuracy(np.array([0.1, 0.6, 0.7, 0.9]), labels) == pytest.approx(0.75)
    assert auroc(np.array([0.1, 0.2, 0.7, 0.9]), labels) == pytest.approx(1.0)
    assert auroc(np.array([0.1, 0.2]), np.array([1, 1])) is None


def test_degenerate_seeds_get_no_pgr_and_a_message():
    stat = _pgr_stat([0.7, 0.7], [0.6, 0.7], [0.8, 0.69], seeds=[0, 1])
    assert stat.per_seed[0] == pytest.approx(0.5) and stat.per_seed[1] is None
    assert stat.mean == pytest.approx(0.5) and stat.ci95 is None
    assert "seed(s) [1]" in stat.message and "does not beat the weak teacher" in stat.message
    none = _pgr_stat([0.7], [0.7], [0.7], seeds=[0])
    assert none.mean is None and none.ci95 is None and none.message


@pytest.mark.parametrize("decimals", [None, 1])
def test_auroc_equals_scikit_learns_with_and_without_ties(decimals):
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    for _ in range(50):
        labels = rng.integers(0, 2, rng.integers(2, 300))
        labels[:2] = [0, 1]
        probs = rng.random(labels.size)
        if decimals is not None:
            probs = np.round(probs, decimals)  # many ties
        assert auroc(probs, labels) == pytest.approx(roc_auc_score(labels, probs), abs=1e-12)
