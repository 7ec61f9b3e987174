"""The red-team suite against a real scorer (embedded default: API and worker processes, SQLite, the
filesystem queue, the bubblewrap jail): every attack must end blocked or flagged and never move the
ladder. ``bench/redteam.py`` prints the same table for a longer run."""

from __future__ import annotations

import pytest

from tests.services.scorer.redteam.harness import ATTACKS, run_method_attacks, run_probe, table
from tests.utils.stack import ScorerStack, running, scorer_env, share_cache

TASK = "rt-polarity"


@pytest.fixture(scope="module")
def stack(tmp_path_factory, aar_home):
    home = share_cache(tmp_path_factory.mktemp("redteam"), aar_home / "cache")
    env = scorer_env(home, AAR_SCORER_SUBMISSIONS_PER_DAY="50", AAR_SCORER_JOB_TIME_LIMIT_S="600")
    with running(ScorerStack(env, home)) as s:
        yield s


def test_every_cheating_method_is_blocked_or_flagged(stack):
    names = sorted(p.stem for p in ATTACKS.glob("*.py") if not p.stem.startswith("_"))
    assert len(names) >= 10
    verdicts = run_method_attacks(stack.url, stack.admin_token, TASK, names, timeout=900)
    print("\n" + table(verdicts))
    beaten = [v for v in verdicts if v.outcome not in ("blocked", "flagged")]
    assert beaten == [], stack.logs()
    assert all(v.ladder is None for v in verdicts)
    by_name = {v.attack: v for v in verdicts}
    assert "teacher_independent" in by_name["ignore_teacher_word_list"].flags


@pytest.mark.parametrize(("name", "flips", "rounds"), [("probe_small_flips", 21, 6), ("probe_large_flips", 150, 5)])
def test_prediction_probes_never_move_the_ladder(stack, name, flips, rounds):
    verdict, subs = run_probe(stack.url, stack.admin_token, TASK, name, flips, rounds, timeout=300)
    print("\n" + table([verdict]))
    assert verdict.outcome == "flagged", verdict
    assert subs[0].flags == [] and subs[0].result.pgr is not None  # the honest submission counts
    if flips <= 50:
        assert all(p.flags == ["probing"] for p in subs[1:])  # every small probe, not just a window's worth
    assert all("per_seed" not in p.result.model_dump() for p in subs if p.result)
