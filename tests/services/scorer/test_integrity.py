import numpy as np
import pytest

from services.scorer.checks import CHECKS, Observed, Outcome, run_checks
from services.scorer.checks.beyond_ceiling import above_ceiling
from services.scorer.checks.probing import probing
from services.scorer.checks.registry import check
from services.scorer.config import ScorerSettings
from services.scorer.contract import Flag
from services.scorer.ladder import ladder, ladder_key, round_to
from w2s.scoring import PGRStat, ScoreReport, SplitReport, Stat, pack_hard, spread, teacher_dependence


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


def split(student: list[float], ceiling: list[float]) -> SplitReport:
    stat = lambda v: Stat(per_seed=v, mean=float(np.mean(v)))  # noqa: E731
    return SplitReport(
        weak_acc=stat([0.66] * len(student)),
        ceiling_acc=stat(ceiling),
        student_acc=stat(student),
        weak_auroc=stat([0.7] * len(student)),
        ceiling_auroc=stat([0.8] * len(student)),
        student_auroc=stat([0.8] * len(student)),
        pgr=PGRStat(per_seed=[0.5] * len(student), mean=0.5, ci95=0.1),
    )


def report(public: SplitReport, private: SplitReport | None = None, **fields) -> ScoreReport:
    splits = {"test_public": public, "test_private": private or public}
    return ScoreReport(task="rt-polarity", method="m", seeds=list(range(3)), splits=splits, **fields)


def settings(**env) -> ScorerSettings:
    return ScorerSettings(_env_file=None, **env)


def test_teacher_dependence_needs_no_label():
    """Per run: does the method move with its teacher (as a reference student on the same teachers does)?"""
    rng = np.random.default_rng(0)
    refs = rng.random((5, 2000))
    follows = 0.6 * refs + 0.4 * rng.random((5, 2000))  # learns from its teacher, with its own noise
    ignores = np.tile(rng.random(2000), (5, 1)) + 0.05 * rng.random((5, 2000))  # outside labels + noise
    half = follows.copy()
    half[2] = ignores[2]  # ignores its teacher in one run only
    assert min(teacher_dependence(follows, refs)) > 0.6
    assert max(abs(v) for v in teacher_dependence(ignores, refs)) < 0.1
    mixed = teacher_dependence(half, refs)  # the other runs' response leaks into its difference a little
    assert mixed[2] < 0.2 and min(mixed[:2] + mixed[3:]) > 0.5
    assert teacher_dependence(np.tile(refs[0], (5, 1)), refs) == [0.0] * 5  # fixed outputs do not move
    assert teacher_dependence(follows[:1], refs[:1]) == []  # one run: nothing to compare


def test_spread_is_zero_for_fixed_outputs():
    hard = np.random.default_rng(1).random((5, 300)) > 0.5
    assert spread(np.tile(hard[0], (5, 1))) == 0
    assert spread(hard) > 100


def test_beyond_ceiling_needs_more_than_noise():
    assert above_ceiling(split([0.99, 1.0, 0.995], [0.76, 0.75, 0.77]), 0.01)["student_minus_ceiling"] > 0.2
    assert above_ceiling(split([0.77, 0.74, 0.76], [0.76, 0.75, 0.77]), 0.01) is None
    assert above_ceiling(split([0.765, 0.755, 0.775], [0.76, 0.75, 0.77]), 0.01) is None  # within the margin


def test_a_private_ceiling_breach_is_for_admins_only():
    """The agent-visible checks read test_public only: a breach on test_private is a review flag."""
    normal, breach = split([0.71, 0.72, 0.70], [0.76, 0.75, 0.77]), split([0.99, 1.0, 0.995], [0.76, 0.75, 0.77])
    outcome = run_checks(
        Observed(task="rt-polarity", kind="method", settings=settings(), report=report(normal, breach))
    )
    assert outcome.flags == [] and outcome.review == [Flag.private_beyond_ceiling.value]
    outcome = run_checks(
        Observed(task="rt-polarity", kind="method", settings=settings(), report=report(breach, normal))
    )
    assert outcome.flags == [Flag.beyond_ceiling.value] and outcome.review == []


def test_no_visible_check_reads_private_labels():
    assert all("test_private" not in c.reads for c in CHECKS.values() if c.visible)
    assert {c.flag for c in CHECKS.values()} == set(Flag)  # every flag has its one check
    with pytest.raises(ValueError, match="must not read test_private"):
        check(Flag.beyond_ceiling, reads={"test_private"}, visible=True)
    with pytest.raises(ValueError, match="unknown inputs"):
        check(Flag.beyond_ceiling, reads={"labels"}, visible=False)


def test_the_kernels_refusals_and_the_source_audit_flag_failed_submissions_too():
    failed = Observed(
        task="rt-polarity",
        kind="method",
        settings=settings(),
        refused={"socket(AF_INET)": 3},
        source_audit={"findings": ["numeric constants: 9000 > 256"]},
    )
    outcome = run_checks(failed)
    assert sorted(outcome.flags) == ["embedded_data", "jail_violation"]
    assert outcome.evidence["jail_violation"] == {"refused": {"socket(AF_INET)": 3}}


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


def test_a_method_with_fixed_outputs_is_checked_as_a_probe():
    """Outputs that do not depend on training are prediction submissions in disguise."""
    public = split([0.71, 0.72, 0.70], [0.76, 0.75, 0.77])
    n = 1882
    base = np.random.default_rng(2).random(n)
    near = np.where(np.arange(n) < 3, 1 - base, base)
    history = lambda: [("earlier", pack_hard(base), 0.0)]  # noqa: E731

    def observe(spread_items: int) -> Outcome:
        fixed = report(public, spread=spread_items, public_hard=pack_hard(near))
        return run_checks(
            Observed(task="rt-polarity", kind="method", settings=settings(), report=fixed, history=history)
        )

    assert observe(0).shown == ["probing"]
    assert observe(200).flags == []  # runs that differ as trained students do: not a probe


def test_a_probe_sees_only_its_probing_flag_and_predictions_never_rank():
    assert Outcome(flags=["beyond_ceiling", "probing"]).shown == ["probing"]
    assert Outcome(flags=["teacher_independent"]).shown == ["teacher_independent"]
    assert ladder_key("rt-polarity", "predictions") != ladder_key("rt-polarity", "submission abc") == "rt-polarity"
