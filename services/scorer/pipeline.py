"""What the worker does with one submission id: claim, run, check integrity, record. Safe to run twice.

Postgres (or SQLite) is the record; the queue only carries ids. A job is claimed with a
compare-and-set (``queued → running``, attempt + 1); a second delivery of the same id finds it claimed
or finished and does nothing. Infrastructure failures put the job back in the queue until
``max_attempts``, then mark it ``dead``; a method's own failure marks it ``failed``. Compute time counts
against the agent's quota either way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.jail import Jail
from services.common.db import session_scope, utcnow
from services.scorer import integrity
from services.scorer.config import ScorerSettings
from services.scorer.contract import Flag
from services.scorer.db import crud
from services.scorer.db.models import Agent, Submission
from services.scorer.jail import ENGINE_RUNTIME, Cancelled, run_in_jail
from w2s.config import resolve_device
from w2s.errors import MethodError, W2SError
from w2s.jobs import MethodJob
from w2s.scoring import ScoreReport, score_method, score_predictions
from w2s.tasks import get_task

log = logging.getLogger("aar.scorer.pipeline")
UNDEFINED_PGR = "PGR is undefined for some seeds: the strong ceiling does not beat the weak teacher there"
INFRASTRUCTURE_ERROR = "the scorer could not run this submission (an infrastructure failure); it is retried"


class ComputeBudgetExceeded(W2SError):
    """The agent's compute left today cannot cover the job's worst case (its time limit)."""


def check_budget(url: str, agent_id: int, settings: ScorerSettings) -> None:
    """Refuse a method job before it starts when the agent's remaining compute seconds cannot cover its
    worst case: the job time limit, which bounds all of its runs together."""
    with session_scope(url) as db:
        left = settings.compute_seconds_per_day - crud.quota_usage(session=db, agent_id=agent_id).compute_seconds
    if left < settings.job_time_limit_s:
        raise ComputeBudgetExceeded(
            f"compute budget exceeded: {max(left, 0.0):.0f} s left today, and this job may use up to "
            f"{settings.job_time_limit_s} s; it was not run"
        )


class Heartbeat:
    """Refreshes the job's heartbeat and watches its cancel flag from a background thread."""

    def __init__(self, settings: ScorerSettings, submission_id: str):
        self.settings, self.submission_id = settings, submission_id
        self.cancelled = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"heartbeat-{submission_id}")

    def _run(self) -> None:
        while not self._stop.wait(self.settings.heartbeat_s):
            try:
                with session_scope(self.settings.db_url) as db:
                    if crud.heartbeat(session=db, submission_id=self.submission_id):
                        self.cancelled.set()
            except Exception:  # a missed beat is retried; the reconciler tolerates a few
                log.exception("heartbeat failed", extra={"submission_id": self.submission_id})

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@dataclass(frozen=True)
class Job:
    """A claimed submission as the worker runs it: a snapshot taken in the claiming transaction."""

    submission_id: str
    agent: str
    agent_id: int
    task: str
    kind: str
    payload: dict
    attempt: int
    settings: ScorerSettings

    @property
    def url(self) -> str:
        return self.settings.db_url


def _claim(submission_id: str, settings: ScorerSettings) -> Job | str:
    """The claimed job, or the outcome (``skipped``, ``dead``, ``cancelled``) when it cannot be claimed."""
    with session_scope(settings.db_url) as db:
        if not crud.claim(session=db, submission_id=submission_id, max_attempts=settings.max_attempts):
            return _not_claimed(db, submission_id, settings)
        sub = db.get_one(Submission, submission_id)
        agent = db.get_one(Agent, sub.agent_id).name
        crud.audit(
            session=db, event="claimed", agent=agent, submission_id=submission_id, detail={"attempt": sub.attempts}
        )
        return Job(submission_id, agent, sub.agent_id, sub.task, sub.kind, sub.payload, sub.attempts, settings)


def process(submission_id: str, settings: ScorerSettings) -> str:
    """Run one submission to a final state. Returns ``skipped``, ``done``, ``failed``, ``cancelled``,
    ``dead`` or ``retry`` (put back in the queue after an infrastructure failure)."""
    job = _claim(submission_id, settings)
    if isinstance(job, str):
        return job
    events: list[dict] = []
    start = time.monotonic()
    outcome = "retry"
    try:
        with Heartbeat(settings, submission_id) as beat:
            if job.kind == "predictions":
                report = score_predictions(job.task, job.payload["predictions"], settings.seeds, settings.device)
            else:
                check_budget(job.url, job.agent_id, settings)
                report = _score_method(job, beat, events)
        outcome = _finish(job, report, events)
    except Cancelled:
        outcome = _end(job, "cancelled", None, events)
    except (MethodError, W2SError) as exc:
        events += getattr(exc, "events", [])
        outcome = _end(job, "failed", str(exc), events)
    except Exception as exc:  # infrastructure: try again later, up to max_attempts
        log.exception("scoring crashed", extra={"submission_id": submission_id})
        dead = job.attempt >= settings.max_attempts
        with session_scope(job.url) as db:
            crud.transition(
                session=db,
                submission_id=submission_id,
                expect="running",
                status="dead" if dead else "queued",
                error=INFRASTRUCTURE_ERROR,  # the exception (host details) goes to the audit log only
                finished_at=utcnow() if dead else None,
            )
            crud.audit(
                session=db,
                event="dead" if dead else "requeued",
                agent=job.agent,
                submission_id=submission_id,
                detail={"error": f"{type(exc).__name__}: {exc}", "attempt": job.attempt},
            )
        outcome = "dead" if dead else "retry"
    finally:
        with session_scope(job.url) as db:
            crud.charge_run(
                session=db, submission=db.get_one(Submission, submission_id), seconds=time.monotonic() - start
            )
    return outcome


def _not_claimed(db, submission_id: str, settings: ScorerSettings) -> str:
    sub = db.get(Submission, submission_id)
    if sub is not None and sub.status == "queued" and sub.attempts >= settings.max_attempts:
        crud.transition(
            session=db,
            submission_id=submission_id,
            expect="queued",
            status="dead",
            finished_at=utcnow(),
            error=f"gave up after {sub.attempts} attempts",
        )
        crud.audit(session=db, event="dead", submission_id=submission_id, detail={"attempts": sub.attempts})
        return "dead"
    if sub is not None and sub.status == "queued" and sub.cancel_requested:
        crud.transition(
            session=db, submission_id=submission_id, expect="queued", status="cancelled", finished_at=utcnow()
        )
        return "cancelled"
    return "skipped"


def _score_method(job: Job, beat: Heartbeat, events: list[dict]) -> ScoreReport:
    """Every real seed and ``settings.controls`` control runs, in a secret order, each a fresh isolated
    process of one warm jail (``sandbox.jail.Jail``: the runtime is imported once per submission).

    Nothing inside the jail names the submission, the engine seed or whether the run is a control."""
    settings, source = job.settings, job.payload["source"]
    deadline = time.monotonic() + settings.job_time_limit_s
    device = resolve_device(settings.device)
    warm = Jail(runtime=ENGINE_RUNTIME, memory_mb=settings.jail_memory_mb, device=device)

    def execute(job: MethodJob) -> np.ndarray:
        run = run_in_jail(
            job,
            source,
            timeout_s=max(1.0, deadline - time.monotonic()),
            memory_mb=settings.jail_memory_mb,
            should_cancel=beat.cancelled.is_set,
            warm=warm,
        )
        events.extend(run.events)
        return run.predictions

    with warm:
        return score_method(
            job.task,
            f"submission {job.submission_id}",
            settings.seeds,
            device=settings.device,
            execute=execute,
            controls=settings.controls,
            salt=job.submission_id,
        )


def _checks(job: Job, report: ScoreReport, events: list[dict]) -> tuple[list[str], dict[str, dict], float]:
    """Every integrity check of a scored submission: (flags, evidence per flag, probing bits spent)."""
    settings = job.settings
    evidence: dict[str, dict] = {}
    dependence = integrity.teacher_dependence(report)
    if dependence is not None and dependence < settings.min_teacher_dependence:
        evidence[Flag.teacher_independent.value] = {
            "teacher_dependence": round(dependence, 4),
            "threshold": settings.min_teacher_dependence,
            "controls": [c.model_dump() for c in report.controls],
        }
    ceiling = integrity.beyond_ceiling(report, settings.ceiling_margin)
    if ceiling:
        evidence[Flag.beyond_ceiling.value] = ceiling
    bits = 0.0
    if report.method == "predictions":  # a method's public probes cannot reach the private split that ranks it
        if report.public_hard is None:  # not reached: every report packs its hard test_public predictions
            raise ValueError("the report has no hard test_public predictions")
        with session_scope(job.url) as db:
            earlier = crud.prior_hard_predictions(
                session=db, agent_id=job.agent_id, task=job.task, exclude=job.submission_id
            )
        n_public = len(get_task(job.task).splits["test_public"])
        bits, probe = integrity.probing(
            report.public_hard, earlier, n_public, settings.probing_max_changed, settings.probing_budget_bits
        )
        if probe:
            evidence[Flag.probing.value] = probe
    violations = _violations(events)
    if violations:
        evidence[Flag.jail_violation.value] = {"violations": violations[:20]}
    return list(evidence), evidence, bits


def _violations(events: list[dict]) -> list[dict]:
    return [e for e in events if e.get("event") in integrity.JAIL_VIOLATIONS]


def _finish(job: Job, report: ScoreReport, events: list[dict]) -> str:
    """Record a scored submission. A flagged one never moves the ladder: the agent sees its flags and
    no score; admins see the score and the evidence."""
    public = report.splits["test_public"]
    flags, evidence, bits = _checks(job, report, events)
    submission_id, agent, agent_id = job.submission_id, job.agent, job.agent_id
    with session_scope(job.url) as db:
        reported, moved = None, False
        if not flags:
            key = integrity.ladder_key(job.task, report.method)
            best_row = crud.ladder_best(session=db, agent_id=agent_id, task=key)
            reported, moved = integrity.ladder(
                best_row.best if best_row else None, public.pgr.mean, job.settings.ladder_step
            )
            if moved:
                if reported is None:  # not reached: a moved ladder reports a finite score
                    raise ValueError(f"the ladder moved without a score (pgr {public.pgr.mean})")
                crud.set_ladder(session=db, agent_id=agent_id, task=key, best=reported, submission_id=submission_id)
        message = UNDEFINED_PGR if public.pgr.message else None
        if flags:
            message = "flagged: this score does not count; admins can see the evidence"
        result = {"pgr": reported, "ladder_moved": moved, "message": message}
        full = {
            "report": report.model_dump(exclude={"public_hard"}),
            "public_hard": report.public_hard,
            "probing_bits": bits,
            "flags": flags,
            "evidence": evidence,
        }
        ok = crud.transition(
            session=db,
            submission_id=submission_id,
            expect="running",
            status="done",
            finished_at=utcnow(),
            public_result=result,
            full_result=full,
            flags=integrity.shown_flags(flags),
            error=None,
        )
        _audit_events(db, agent, submission_id, events)
        for flag in flags:
            crud.audit(
                session=db, event=f"flag:{flag}", agent=agent, submission_id=submission_id, detail=evidence[flag]
            )
        crud.audit(
            session=db,
            event="done",
            agent=agent,
            submission_id=submission_id,
            detail={"pgr_full": public.pgr.mean, "reported": reported, "flags": flags},
        )
    return "done" if ok else "skipped"


def _end(job: Job, status: str, error: str | None, events: list[dict]) -> str:
    """Record a submission that ended without a score; it still carries the flags its evidence supports."""
    violations = _violations(events)
    flags = [Flag.jail_violation.value] if violations else []
    submission_id, agent = job.submission_id, job.agent
    with session_scope(job.url) as db:
        crud.transition(
            session=db,
            submission_id=submission_id,
            expect="running",
            status=status,
            finished_at=utcnow(),
            error=error,
            flags=flags,
            full_result={"evidence": {Flag.jail_violation.value: {"violations": violations[:20]}}} if flags else None,
        )
        _audit_events(db, agent, submission_id, events)
        for flag in flags:
            crud.audit(session=db, event=f"flag:{flag}", agent=agent, submission_id=submission_id, detail={})
        crud.audit(session=db, event=status, agent=agent, submission_id=submission_id, detail={"error": error})
    return status


def _audit_events(db: Session, agent: str, submission_id: str, events: list[dict]) -> None:
    for event in events[:200]:
        crud.audit(
            session=db, event=f"jail:{event.get('event')}", agent=agent, submission_id=submission_id, detail=event
        )


def reconcile(settings: ScorerSettings, enqueue: Callable[[str], object]) -> dict[str, int]:
    """Re-enqueue lost queued jobs, recover running jobs whose worker stopped beating (charging the compute
    time of the killed attempt), bury the rest."""
    now = utcnow()
    counts = {"requeued_stale": 0, "reenqueued": 0, "dead": 0}
    url = settings.db_url
    with session_scope(url) as db:
        stale = db.scalars(
            select(Submission.id).where(
                Submission.status == "running",
                Submission.heartbeat_at < now - timedelta(seconds=settings.stale_after_s),
            )
        ).all()
        for submission_id in stale:
            sub = db.get_one(Submission, submission_id)
            dead = sub.attempts >= settings.max_attempts
            if crud.transition(
                session=db,
                submission_id=submission_id,
                expect="running",
                status="dead" if dead else "queued",
                finished_at=now if dead else None,
                enqueued_at=None,
                error="worker stopped responding" if dead else None,
            ):
                # The killed attempt ran from its claim to its last heartbeat: charge that, as for any run.
                beat, started = sub.heartbeat_at, sub.started_at  # a stale row has a heartbeat
                seconds = max(0.0, (beat - started).total_seconds()) if beat and started else 0.0
                crud.charge_run(session=db, submission=sub, seconds=seconds)
                crud.audit(
                    session=db,
                    event="dead" if dead else "recovered_stale",
                    submission_id=submission_id,
                    detail={"attempts": sub.attempts, "charged_seconds": round(seconds, 1)},
                )
                counts["dead" if dead else "requeued_stale"] += 1
        lost = db.scalars(
            select(Submission.id).where(
                Submission.status == "queued",
                (Submission.enqueued_at.is_(None))
                | (Submission.enqueued_at < now - timedelta(seconds=settings.requeue_after_s)),
            )
        ).all()
    for submission_id in lost:
        enqueue(submission_id)
        counts["reenqueued"] += 1
    return counts
