"""The registry of integrity checks: what each reads, who sees its flag, and how they are run together.

A check is a function of what the trusted side observed of a submission (``Observed``); it returns a
``Finding`` (the evidence) when it flags, else ``None``. Each declares the inputs it ``reads`` and
whether its flag is ``visible`` to the agent. Everything an agent sees must depend on ``test_public``
only, so registration refuses a visible check that reads ``test_private``. A visible flag keeps the
score off the ladder, and the agent sees its flags and no score; a review flag (not visible) is for
admins only (evidence, audit log, the admin view of the leaderboard) and changes nothing an agent sees,
the ladder included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from services.scorer.config import ScorerSettings
from services.scorer.contract import Flag
from w2s.scoring import ScoreReport

# What a check may read: the labels of a test split, the method's predictions and the reference
# students' (label-free), the agent's earlier probe submissions, the method's source, and the calls the
# kernel refused its runs.
READS = frozenset({"test_public", "test_private", "predictions", "references", "history", "source", "kernel"})


@dataclass(frozen=True)
class Observed:
    """What the trusted side knows of one submission when its checks run. ``report`` is ``None`` for a
    submission that ended without a score (failed, cancelled)."""

    task: str
    kind: str
    settings: ScorerSettings
    report: ScoreReport | None = None
    source_audit: dict[str, Any] | None = None
    refused: dict[str, int] = field(default_factory=dict)
    history: Callable[[], list[tuple[str, str, float]]] = lambda: []


@dataclass(frozen=True)
class Finding:
    """A check's evidence for admins, the probing bits the submission spends (``bits``), and whether it
    flags (a probe within budget spends bits without a flag)."""

    evidence: dict[str, Any]
    bits: float = 0.0
    flagged: bool = True


@dataclass(frozen=True)
class Check:
    flag: Flag
    reads: frozenset[str]
    visible: bool
    scored_only: bool
    evaluate: Callable[[Observed], Finding | None]


CHECKS: dict[Flag, Check] = {}


def check(
    flag: Flag, *, reads: set[str], visible: bool, scored_only: bool = True
) -> Callable[[Callable[[Observed], Finding | None]], Callable[[Observed], Finding | None]]:
    """Register the decorated function as the check of ``flag``. ``scored_only``: it needs a report
    (otherwise it also runs for submissions that failed or were cancelled)."""
    unknown = set(reads) - READS
    if unknown:
        raise ValueError(f"check {flag}: unknown inputs {sorted(unknown)}")
    if visible and "test_private" in reads:
        raise ValueError(f"check {flag}: an agent-visible flag must not read test_private")

    def register(fn: Callable[[Observed], Finding | None]) -> Callable[[Observed], Finding | None]:
        CHECKS[flag] = Check(flag, frozenset(reads), visible, scored_only, fn)
        return fn

    return register


@dataclass
class Outcome:
    """Every check's verdict on one submission: ``flags`` (visible: the agent sees them and the score does
    not count), ``review`` (admins only), the evidence per flag and the probing bits spent."""

    flags: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)
    evidence: dict[str, dict[str, Any]] = field(default_factory=dict)
    bits: float = 0.0

    @property
    def shown(self) -> list[str]:
        """The flags an agent sees: with ``probing`` among them only that one, so no other check (each a
        function of the public split) answers a probe's question."""
        return [Flag.probing.value] if Flag.probing.value in self.flags else list(self.flags)


def run_checks(observed: Observed) -> Outcome:
    """Run every registered check that applies to ``observed``."""
    outcome = Outcome()
    for flag, registered in CHECKS.items():
        if registered.scored_only and observed.report is None:
            continue
        finding = registered.evaluate(observed)
        if finding is None:
            continue
        outcome.bits += finding.bits
        if not finding.flagged:
            continue
        (outcome.flags if registered.visible else outcome.review).append(flag.value)
        outcome.evidence[flag.value] = finding.evidence
    return outcome
