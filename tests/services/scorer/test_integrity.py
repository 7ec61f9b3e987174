import numpy as np
import pytest

from services.scorer.integrity import (
    beyond_ceiling,
    ladder,
    ladder_key,
    probing,
    round_to,
    shown_flags,
    teacher_dependence,
)
from w2s.scoring import ControlRun, PGRStat, ScoreReport, SplitReport, Stat, pack_hard


def test_ladder_moves_only_by_a_full_step_and_rounds():
    assert ladder(None, 0.6234, 0.01) == (0.62, True)
    assert ladder(0.62, 0.6251, 0.01) == (0.62, False)  # less than a step better: old score again
    assert ladder(0.62, 0.6312, 0.01) == (0.63, True)
    assert ladder(0.62, 0.40, 0.01) == (0.62, False)  # worse never lowers what was reported
    assert ladder(0.62, None, 0.01) == (0.62, False)


def test_the_ladder_starts_at_zero():
    assert ladder(None, -1.6, 0.01) == (None, False)  # no better than the teacher: never on the ladder
    assert ladder(None, 0.004, 0.01) == (None, False)


def test_round_to_step():
    assert round_to(0.12345, 0.05) == pytest.approx(0.10)
    assert round_to(None, 0.01) is None


def report(student: list[float], ceiling: list[float], controls: list[ControlRun] = ()) -> ScoreReport:
    stat = lambda v: Stat(per_seed=v, mean=float(np.mean(v)))  # noqa: E731
    split = SplitReport(
        weak_acc=stat([0.66] * len(student)),
        ceiling_acc=stat(ceiling),
        student_acc=stat(student),
        weak_auroc=stat([0.7] * len(student)),
        ceiling_auroc=stat([0.8] * len(student)),
        student_auroc=stat([0.8] * len(student)),
        pgr=PGRStat(per_seed=[0.5] * len(student), mean=0.5, ci95=0.1),
    )
    return ScoreReport(
        task="t", method="m", seeds=list(range(len(student))), splits={"test_public": split}, controls=list(controls)
    )


def test_teacher_dependence_from_the_inverted_teacher():
    follows = report([0.72], [0.76], [ControlRun(seed=0, student_acc=0.29, real_student_acc=0.72)])
    ignores = report([0.65], [0.76], [ControlRun(seed=0, student_acc=0.64, real_student_acc=0.65)])
    assert teacher_dependence(follows) == pytest.approx(0.977, abs=0.01)
    assert teacher_dependence(ignores) == pytest.approx(0.033, abs=0.01)
    chance = report([0.5], [0.76], [ControlRun(seed=0, student_acc=0.5, real_student_acc=0.5)])
    assert teacher_dependence(chance) is None  # nothing to compare: such a score never reaches the ladder


def test_beyond_ceiling_needs_more_than_noise():
    assert beyond_ceiling(report([0.99, 1.0, 0.995], [0.76, 0.75, 0.77]), 0.01)["split"] == "test_public"
    assert beyond_ceiling(report([0.77, 0.74, 0.76], [0.76, 0.75, 0.77]), 0.01) is None
    assert beyond_ceiling(report([0.765, 0.755, 0.775], [0.76, 0.75, 0.77]), 0.01) is None  # within the margin


def test_probing_looks_at_all_history_and_spends_a_budget():
    n = 1000
    rng = np.random.default_rng(0)
    base = rng.random(n)
    flipped = lambda k: np.where(np.arange(n) < k, 1 - base, base)  # noqa: E731
    old = [(f"s{i}", pack_hard(rng.random(n)), 0.0) for i in range(60)] + [("base", pack_hard(base), 0.0)]
    bits, flag = probing(pack_hard(flipped(21)), old, n, max_changed=50, budget_bits=24)
    assert flag["like"] == "base" and flag["changed_items"] == 21  # 60 submissions later, still found
    assert bits == pytest.approx(np.log2(22))
    assert probing(pack_hard(base), old, n, 50, 24) == (0.0, None)  # identical: nothing learned
    far = pack_hard(1 - base)
    assert probing(far, old, n, 50, 24) == (0.0, None)
    bits, flag = probing(pack_hard(flipped(150)), old, n, 50, 24)  # a moderate probe: spends, not flagged
    assert flag is None and bits == pytest.approx(np.log2(151))
    spent = [
        ("p1", pack_hard(flipped(120)), 7.0),
        ("p2", pack_hard(flipped(130)), 7.0),
        ("p3", pack_hard(flipped(140)), 7.1),
    ]
    elsewhere = np.where((np.arange(n) >= 500) & (np.arange(n) < 670), 1 - base, base)  # 170 from base only
    bits, flag = probing(pack_hard(elsewhere), old + spent, n, 50, 24)
    assert flag["like"] == "base" and flag["bits_spent"] > 24  # the budget over every earlier probe is spent


def test_a_probe_sees_only_its_probing_flag_and_predictions_never_rank():
    assert shown_flags(["beyond_ceiling", "probing"]) == ["probing"]  # the threshold flag answers no probe
    assert shown_flags(["teacher_independent"]) == ["teacher_independent"]
    assert ladder_key("rt-polarity", "predictions") != ladder_key("rt-polarity", "submission abc") == "rt-polarity"
