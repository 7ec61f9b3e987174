"""The offline researcher's search policy: regularised evolution over method families and hyper-parameters.

No LLM and no I/O: given every trial anyone has shared (a configuration and its verified public PGR, or
none when it failed or was flagged), ``Search.propose`` returns the next configuration to try.

1. **Explore**: every family in the space is tried once at its defaults before any is tuned. Each
   researcher visits the families in its own order (the ``prefer``red ones first, the rest drawn from its
   seed), so several researchers that read each other's results on the forum start on different families
   instead of repeating each other.
2. **Exploit**: regularised evolution (Real et al., 2019). The population is the newest ``population``
   scored trials; a tournament of ``tournament`` of them picks a parent, and the child moves one or two
   of the parent's hyper-parameters by a step drawn in the parameter's own scale (log scale where the
   range spans orders of magnitude), rounded to two significant digits so that configurations repeat
   exactly and are recognised as tried. With probability ``jump`` the child is a fresh random draw of a
   family among the best ones instead, so the search does not collapse onto one parent's neighbourhood.

A configuration that anyone has tried, or that is pending, is never proposed again.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Param:
    """One hyper-parameter: its range, its default, and whether it moves on a log scale or in integers."""

    name: str
    low: float
    high: float
    default: float
    log: bool = False
    integer: bool = False

    def __post_init__(self) -> None:
        if not self.low <= self.default <= self.high or (self.log and self.low <= 0):
            raise ValueError(f"parameter {self.name}: default {self.default} outside [{self.low}, {self.high}]")

    def _to_unit(self, value: float) -> float:
        if self.high == self.low:
            return 0.0
        if self.log:
            return (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (value - self.low) / (self.high - self.low)

    def _from_unit(self, unit: float) -> float:
        unit = min(1.0, max(0.0, unit))
        if self.log:
            value = math.exp(math.log(self.low) + unit * (math.log(self.high) - math.log(self.low)))
        else:
            value = self.low + unit * (self.high - self.low)
        return self.round(value)

    def round(self, value: float) -> float:
        """The value kept in range, in integers or to two significant digits."""
        value = min(self.high, max(self.low, value))
        if self.integer:
            return float(round(value))
        return float(f"{value:.2g}")

    def sample(self, rng: random.Random) -> float:
        """A uniform draw on the parameter's scale."""
        return self._from_unit(rng.random())

    def mutate(self, value: float, rng: random.Random, scale: float) -> float:
        """A Gaussian step of ``scale`` (a fraction of the range, on the parameter's scale)."""
        return self._from_unit(self._to_unit(value) + rng.gauss(0.0, scale))


@dataclass(frozen=True)
class Config:
    """A method family and values for its hyper-parameters (sorted by name, so equal configs compare equal)."""

    family: str
    params: tuple[tuple[str, float], ...] = ()

    @classmethod
    def of(cls, family: str, params: Mapping[str, float]) -> Config:
        return cls(family, tuple(sorted((k, float(v)) for k, v in params.items())))

    @property
    def slug(self) -> str:
        """A readable name: ``family`` then ``name=value`` pairs."""
        return " ".join([self.family, *(f"{k}={v:g}" for k, v in self.params)])

    @property
    def key(self) -> str:
        """A short stable id, safe as a forum tag suffix and a file name."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:12]

    def to_json(self) -> str:
        return json.dumps({"family": self.family, "params": dict(self.params)}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Config:
        data = json.loads(text)
        return cls.of(str(data["family"]), {str(k): float(v) for k, v in dict(data["params"]).items()})


@dataclass(frozen=True)
class Trial:
    """A configuration someone tried, and its verified public PGR (``None``: it failed or was flagged)."""

    config: Config
    score: float | None


@dataclass
class Search:
    """Propose configurations from ``space`` (family → its parameters), given the trials seen so far."""

    space: Mapping[str, Sequence[Param]]
    seed: int | str = 0
    prefer: Sequence[str] = ()
    population: int = 8
    tournament: int = 3
    jump: float = 0.2
    step: float = 0.2
    attempts: int = 50
    _order: list[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.space:
            raise ValueError("the search space has no family")
        rest = sorted(set(self.space) - set(self.prefer))
        random.Random(f"order:{self.seed}").shuffle(rest)
        self._order = [f for f in self.prefer if f in self.space] + rest

    def default(self, family: str) -> Config:
        return Config.of(family, {p.name: p.default for p in self.space[family]})

    def draw(self, family: str, rng: random.Random) -> Config:
        """A uniform draw of ``family``'s parameters."""
        return Config.of(family, {p.name: p.sample(rng) for p in self.space[family]})

    def mutate(self, parent: Config, rng: random.Random) -> Config:
        """``parent`` with one or two of its parameters moved (a family without parameters: a random draw)."""
        params = dict(parent.params)
        specs = {p.name: p for p in self.space[parent.family]}
        if not specs:
            return parent
        for name in rng.sample(sorted(specs), k=min(len(specs), rng.choice((1, 1, 2)))):
            params[name] = specs[name].mutate(params.get(name, specs[name].default), rng, self.step)
        return Config.of(parent.family, params)

    def propose(self, trials: Iterable[Trial], pending: Iterable[Config] = ()) -> Config | None:
        """The next configuration to try, or ``None`` when every attempt lands on one already tried."""
        trials = [t for t in trials if t.config.family in self.space]
        taken = {t.config for t in trials} | set(pending)
        tried_families = {c.family for c in taken}
        for family in self._order:
            if family not in tried_families:
                return self.default(family)
        rng = random.Random(f"propose:{self.seed}:{len(taken)}")
        scored = [t for t in trials if t.score is not None]
        for _ in range(self.attempts):
            child = self._child(scored, rng)
            if child not in taken:
                return child
        return None

    def _child(self, scored: list[Trial], rng: random.Random) -> Config:
        if not scored:
            return self.draw(rng.choice(self._order), rng)
        population = scored[-self.population :]
        if rng.random() < self.jump:
            best_of = {t.config.family: _score(t) for t in sorted(scored, key=_score)}  # each family's best
            ranked = sorted(best_of, key=lambda f: -best_of[f])
            family = rng.choice(ranked[: max(1, len(ranked) // 2)])
            return self.draw(family, rng)
        contenders = rng.sample(population, k=min(self.tournament, len(population)))
        return self.mutate(max(contenders, key=_score).config, rng)


def _score(trial: Trial) -> float:
    return trial.score if trial.score is not None else -math.inf


def best(trials: Iterable[Trial]) -> Trial | None:
    """The best scored trial, or ``None``."""
    scored = [t for t in trials if t.score is not None]
    return max(scored, key=_score) if scored else None
