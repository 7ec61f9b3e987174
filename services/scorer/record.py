"""Recording how a submission ended: its checks, the ladder, the agent's view, the admins' evidence, audit.

What an agent sees (``public_result``, the shown flags, ``error``) is built here from what the checks
allow: a flagged submission shows its flags and no score; review flags and all evidence stay with
admins. Advisory events (what the method's own interpreter reported) are bounded per submission.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from services.common.db import session_scope, utcnow
from services.scorer.checks import Observed, Outcome, run_checks
from services.scorer.checks.probing import accountable
from services.scorer.claims import Job
from services.scorer.db import crud
from services.scorer.ladder import ladder, ladder_key
from w2s.scoring import ScoreReport

UNDEFINED_PGR = "PGR is undefined for some seeds: the strong ceiling does not beat the weak teacher there"
FLAGGED = "flagged: this score does not count; admins can see the evidence"
ERROR_CHARS = 300
ADVISORY_KEPT = 20  # advisory events kept per submission (the method can write as many as it likes)


@dataclass
class RunLog:
    """What the trusted side saw of a submission's runs: each run's seconds, the calls the kernel refused
    (counted outside the method) and the advisory events of its audit hooks. Safe for overlapping runs."""

    seconds: list[float] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)
    advisory: list[dict[str, Any]] = field(default_factory=list)
    advisory_seen: int = 0
    started: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def start(self) -> int:
        """The number of the run that starts now (runs may overlap)."""
        with self._lock:
            self.started += 1
            return self.started

    def add(self, seconds: float, refused: dict[str, int], events: list[dict[str, Any]]) -> None:
        with self._lock:
            self.seconds.append(seconds)
            self.refused.update(refused)
            self.advisory_seen += len(events)
            self.advisory += events[: max(0, ADVISORY_KEPT - len(self.advisory))]


def _observed(job: Job, log: RunLog, report: ScoreReport | None) -> Outcome:
    def history() -> list[tuple[str, str, float]]:
        with session_scope(job.url) as db:
            return crud.prior_hard_predictions(
                session=db, agent_id=job.agent_id, task=job.task, exclude=job.submission_id
            )

    return run_checks(
        Observed(
            task=job.task,
            kind=job.kind,
            settings=job.settings,
            report=report,
            source_audit=job.source_audit,
            refused=dict(log.refused),
            history=history,
        )
    )


def _evidence(outcome: Outcome, log: RunLog) -> dict[str, Any]:
    return {
        "flags": outcome.flags,
        "review": outcome.review,
        "evidence": outcome.evidence,
        "advisory": {"seen": log.advisory_seen, "kept": log.advisory},
        "run_seconds": [round(s, 3) for s in log.seconds],  # what the agent was charged, run by run
    }


def finish(job: Job, report: ScoreReport, log: RunLog) -> str:
    """Record a scored submission. A flagged one never moves the ladder: the agent sees its flags and no
    score; admins see the score and the evidence."""
    public = report.splits["test_public"]
    outcome = _observed(job, log, report)
    with session_scope(job.url) as db:
        reported, moved = None, False
        if not outcome.flags and job.heldout_of is None:  # a held-out re-score is never laddered
            key = ladder_key(job.task, report.method, crud.agent_role(session=db, agent_id=job.agent_id))
            best_row = crud.ladder_best(session=db, agent_id=job.agent_id, task=key)
            reported, moved = ladder(best_row.best if best_row else None, public.pgr.mean, job.settings.ladder_step)
            if moved:
                if reported is None:  # not reached: a moved ladder reports a finite score
                    raise ValueError(f"the ladder moved without a score (pgr {public.pgr.mean})")
                crud.set_ladder(
                    session=db, agent_id=job.agent_id, task=key, best=reported, submission_id=job.submission_id
                )
        message = FLAGGED if outcome.flags else UNDEFINED_PGR if public.pgr.message else None
        full = {
            "report": report.model_dump(exclude={"public_hard"}),
            "probing_bits": outcome.bits,
            **_evidence(outcome, log),
        }
        if accountable(report, job.settings.fixed_max_changed):  # a probe: later probes are compared with it
            full.update(probe=True, public_hard=report.public_hard)
        ok = crud.transition(
            session=db,
            submission_id=job.submission_id,
            expect="running",
            status="done",
            finished_at=utcnow(),
            public_result={"pgr": reported, "ladder_moved": moved, "message": message},
            full_result=full,
            flags=outcome.shown,
            error=None,
        )
        _audit(db, job, outcome, log)
        crud.audit(
            session=db,
            event="done",
            agent=job.agent,
            submission_id=job.submission_id,
            detail={
                "pgr_full": public.pgr.mean,
                "reported": reported,
                "flags": outcome.flags,
                "review": outcome.review,
            },
        )
    return "done" if ok else "skipped"


def end(job: Job, status: str, error: str | None, log: RunLog) -> str:
    """Record a submission that ended without a score; it still carries the flags of the checks that need
    no score (the kernel's refusals, the source audit). The error an agent sees is at most
    ``ERROR_CHARS`` characters."""
    outcome = _observed(job, log, None)
    shown_error = error if error is None or len(error) <= ERROR_CHARS else error[: ERROR_CHARS - 1] + "…"
    with session_scope(job.url) as db:
        crud.transition(
            session=db,
            submission_id=job.submission_id,
            expect="running",
            status=status,
            finished_at=utcnow(),
            error=shown_error,
            flags=outcome.shown,
            full_result=_evidence(outcome, log),
        )
        _audit(db, job, outcome, log)
        crud.audit(session=db, event=status, agent=job.agent, submission_id=job.submission_id, detail={"error": error})
    return status


def _audit(db: Session, job: Job, outcome: Outcome, log: RunLog) -> None:
    for flag in outcome.flags + outcome.review:
        crud.audit(
            session=db,
            event=f"flag:{flag}",
            agent=job.agent,
            submission_id=job.submission_id,
            detail=outcome.evidence[flag],
        )
    if log.advisory_seen:
        crud.audit(
            session=db,
            event="jail:advisory",
            agent=job.agent,
            submission_id=job.submission_id,
            detail={"seen": log.advisory_seen, "kept": log.advisory},
        )
