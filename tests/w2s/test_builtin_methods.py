"""Every built-in method on the real offline task, and the engine's acceptance numbers."""

import pytest

from w2s.methods import BUILTIN_METHODS
from w2s.scoring import score_method


@pytest.mark.parametrize("method", BUILTIN_METHODS)
def test_builtin_method_beats_the_weak_teacher(method):
    view = score_method("rt-polarity", method, 3).view()
    assert view["seeds"] == [0, 1, 2]
    assert len(view["pgr"]["per_seed"]) == 3
    assert view["student_acc"]["mean"] > view["weak_acc"]["mean"] + 0.02
    assert 0.2 < view["pgr"]["mean"] < 1.1
    assert view["pgr"]["ci95"] is not None


def test_vanilla_recovers_a_real_part_of_the_gap_on_rt_polarity():
    """Mean PGR over 5 seeds well inside (0, 1); the ceiling beats weak by >= 5 points. The splits depend on
    the scoring secret (random per test session): over 14 secrets the mean was 0.53-0.71 (docs/benchmarks.md),
    so the bounds leave room for a rare draw without letting a broken student (PGR ~0) pass."""
    report = score_method("rt-polarity", "vanilla", 5)
    for split in report.splits.values():
        assert split.ceiling_acc.mean - split.weak_acc.mean >= 0.05
    public = report.splits["test_public"]
    assert 0.35 <= public.pgr.mean <= 0.85
    assert public.pgr.ci95 < 0.2


def test_scores_are_reproducible():
    a = score_method("rt-polarity", "logconf", 2).view()
    b = score_method("rt-polarity", "logconf", 2).view()
    assert a["pgr"] == b["pgr"]


def test_tweet_sentiment_has_a_gap_to_recover():
    view = score_method("tweet-sentiment", "vanilla", 2).view()
    assert view["ceiling_acc"]["mean"] > view["weak_acc"]["mean"] + 0.03
    assert view["pgr"]["mean"] is not None
