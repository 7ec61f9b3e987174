"""The offline researcher's search policy: exploration, no repeats, and improvement on a known objective."""

from __future__ import annotations

import math
import random

import pytest

from workers.agent.search import Config, Param, Search, Trial, best

SPACE = {
    "vanilla": [],
    "confident": [Param("keep", 0.05, 0.95, 0.5)],
    "logconf": [Param("aux", 0.01, 2.0, 0.5, log=True), Param("warmup", 0.0, 0.5, 0.2)],
    "consistency": [Param("k", 1, 60, 15, integer=True)],
}


def objective(config: Config) -> float:
    """A smooth score with its optimum inside logconf's range (aux 0.1, warmup 0.35), far from the defaults."""
    p = dict(config.params)
    if config.family != "logconf":
        return 0.5
    return 0.9 - 0.3 * (math.log10(p["aux"] / 0.1)) ** 2 - 2 * (p["warmup"] - 0.35) ** 2


def run(search: Search, budget: int, shared: list[Trial] | None = None) -> list[Trial]:
    trials = shared if shared is not None else []
    for _ in range(budget):
        config = search.propose(trials)
        assert config is not None
        trials.append(Trial(config, objective(config)))
    return trials


def test_every_family_is_tried_at_its_defaults_before_any_is_tuned():
    trials = run(Search(SPACE, seed=1), len(SPACE))
    assert sorted(t.config.family for t in trials) == sorted(SPACE)
    assert all(t.config == Search(SPACE).default(t.config.family) for t in trials)


def test_researchers_start_on_different_families():
    firsts = {Search(SPACE, seed=f"agent-{i}").propose([]).family for i in range(12)}
    assert len(firsts) > 1


def test_a_direction_s_families_are_explored_first():
    search = Search(SPACE, seed=5, prefer=["logconf", "consistency", "not-in-space"])
    trials = run(search, 2)
    assert [t.config.family for t in trials] == ["logconf", "consistency"]


def test_the_search_climbs_well_above_the_defaults():
    trials = run(Search(SPACE, seed=3), 40)
    found = best(trials)
    assert found is not None
    assert found.score > objective(Search(SPACE).default("logconf")) + 0.1
    assert found.score > 0.85


def test_no_configuration_is_proposed_twice_even_across_researchers():
    shared: list[Trial] = []
    searches = [Search(SPACE, seed=f"agent-{i}") for i in range(3)]
    for _ in range(15):
        for search in searches:
            run(search, 1, shared)
    configs = [t.config for t in shared]
    assert len(configs) == len(set(configs)) == 45


def test_pending_and_failed_configurations_are_not_repeated():
    search = Search(SPACE, seed=0)
    pending = [search.default(f) for f in SPACE]
    proposal = search.propose([], pending=pending)
    assert proposal is not None and proposal not in pending
    failed = [Trial(search.default(f), None) for f in SPACE]
    assert search.propose(failed) not in {t.config for t in failed}


def test_a_space_that_is_used_up_proposes_nothing():
    space = {"vanilla": [], "hard": []}
    search = Search(space, seed=0)
    trials = [Trial(search.default(f), 0.6) for f in space]
    assert search.propose(trials) is None


def test_parameters_stay_in_range_and_on_their_grid():
    rng = random.Random(0)
    keep, k = Param("keep", 0.05, 0.95, 0.5), Param("k", 1, 60, 15, integer=True)
    aux = Param("aux", 0.01, 2.0, 0.5, log=True)
    for _ in range(200):
        for p in (keep, k, aux):
            value = p.mutate(p.sample(rng), rng, 0.5)
            assert p.low <= value <= p.high
            assert value == p.round(value)
        assert float(k.sample(rng)).is_integer()


def test_a_default_outside_the_range_is_refused():
    with pytest.raises(ValueError, match="outside"):
        Param("keep", 0.1, 0.9, 1.5)


def test_configurations_round_trip_through_json_and_have_stable_keys():
    config = Config.of("logconf", {"warmup": 0.2, "aux": 0.5})
    assert Config.from_json(config.to_json()) == config
    assert config.key == Config.of("logconf", {"aux": 0.5, "warmup": 0.2}).key
    assert config.key != Config.of("logconf", {"aux": 0.25, "warmup": 0.2}).key
    assert config.slug == "logconf aux=0.5 warmup=0.2"
