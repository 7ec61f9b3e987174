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
from datetime import timedelta

import numpy as np
from sqlalchemy import select

from services.common.db import session_scope
from services.scorer import integrity
from services.scorer.config import ScorerSettings
from services.scorer.contract import Flag
from services.scorer.db import crud
from services.scorer.db.models import Agent, Submission, utcnow
from services.scorer.jail import Cancelled, run_in_jail
from w2s.errors import MethodError, W2SError
from w2s.jobs import MethodJob
from w2s.scoring import ScoreReport, score_method, score_predictions

log = logging.getLogger("aar.scorer.pipeline")


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


def process(submission_id: str, settings: ScorerSettings) -> str:
    """Run one submission to a final state. Returns ``skipped``, ``done``, ``failed``, ``cancelled``,
    ``dead`` or ``retry`` (put back in the queue after an infrastructure failure)."""
    url = settings.db_url
    with session_scope(url) as db:
        if not crud.claim(session=db, submission_id=submission_id, max_attempts=settings.max_attempts):
            return _not_claimed(db, submission_id, settings)
        sub = db.get(Submission, submission_id)
        agent = db.get(Agent, sub.agent_id).name
        snapshot = (sub.task, sub.kind, sub.payload, sub.agent_id, sub.created_at, sub.attempts)
        crud.audit(
            session=db, event="claimed", agent=agent, submission_id=submission_id, detail={"attempt": sub.attempts}
        )
    task, kind, payload, agent_id, created_at, attempt = snapshot
    events: list[dict] = []
    start = time.monotonic()
    outcome = "retry"
    try:
        with Heartbeat(settings, submission_id) as beat:
            if kind == "predictions":
                report = score_predictions(task, payload["predictions"], settings.seeds, settings.device)
                flags, details = _probing(url, agent_id, task, created_at, payload["predictions"], settings)
            else:
                report, flags, details = _score_method(submission_id, task, payload["source"], settings, beat, events)
        outcome = _finish(url, submission_id, agent, agent_id, task, report, flags, details, events, settings)
    except Cancelled:
        outcome = _end(url, submission_id, agent, "cancelled", None, events)
    except (MethodError, W2SError) as exc:
        events += getattr(exc, "events", [])
        outcome = _end(url, submission_id, agent, "failed", str(exc), events)
    except Exception as exc:  # infrastructure: try again later, up to max_attempts
        log.exception("scoring crashed", extra={"submission_id": submission_id})
        dead = attempt >= settings.max_attempts
        with session_scope(url) as db:
            crud.transition(
                session=db,
                submission_id=submission_id,
                expect="running",
                status="dead" if dead else "queued",
                error=f"{type(exc).__name__}: {exc}",
                finished_at=utcnow() if dead else None,
            )
            crud.audit(
                session=db,
                event="dead" if dead else "requeued",
                agent=agent,
                submission_id=submission_id,
                detail={"error": f"{type(exc).__name__}: {exc}", "attempt": attempt},
            )
        outcome = "dead" if dead else "retry"
    finally:
        seconds = time.monotonic() - start
        with session_scope(url) as db:
            crud.spend_gpu_seconds(session=db, agent_id=agent_id, seconds=seconds)
            sub = db.get(Submission, submission_id)
            sub.gpu_seconds = (sub.gpu_seconds or 0.0) + seconds
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


def _score_method(
    submission_id: str, task: str, source: str, settings: ScorerSettings, beat: Heartbeat, events: list[dict]
) -> tuple[ScoreReport, list[str], dict]:
    deadline = time.monotonic() + settings.job_time_limit_s

    def jailed(tag: str) -> Callable[[MethodJob], np.ndarray]:
        def execute(job: MethodJob) -> np.ndarray:
            run = run_in_jail(
                job,
                source,
                settings.jobs_dir / submission_id / f"{tag}-seed{job.seed}",
                home=settings.home,
                timeout_s=max(1.0, deadline - time.monotonic()),
                memory_mb=settings.jail_memory_mb,
                should_cancel=beat.cancelled.is_set,
            )
            events.extend(run.events)
            return run.predictions

        return execute

    label = f"submission {submission_id}"
    report = score_method(task, label, settings.seeds, device=settings.device, execute=jailed("run"))
    control = score_method(
        task, label, device=settings.device, execute=jailed("control"), seeds=[0], shuffle_weak_labels=True
    )
    real_acc = report.splits["test_public"].student_acc.per_seed[0]
    control_acc = control.splits["test_public"].student_acc.per_seed[0]
    flags = []
    if integrity.teacher_independent(real_acc, control_acc, settings.independence_tolerance):
        flags.append(Flag.teacher_independent.value)
    return report, flags, {"control": {"seed": 0, "student_acc": control_acc, "real_student_acc": real_acc}}


def _probing(url, agent_id, task, created_at, predictions, settings) -> tuple[list[str], dict]:
    with session_scope(url) as db:
        earlier = [
            (s.id, s.payload["predictions"])
            for s in crud.prior_predictions(session=db, agent_id=agent_id, task=task, before=created_at)
        ]
    match = integrity.probing_match(predictions, earlier, settings.probing_max_changed)
    return ([Flag.probing.value], {"probing": match}) if match else ([], {})


def _finish(url, submission_id, agent, agent_id, task, report, flags, details, events, settings) -> str:
    public = report.splits["test_public"]
    violations = [e for e in events if e.get("event") in integrity.JAIL_VIOLATIONS]
    if violations:
        flags = [*flags, Flag.jail_violation.value]
    with session_scope(url) as db:
        best_row = crud.ladder_best(session=db, agent_id=agent_id, task=task)
        reported, moved = integrity.ladder(best_row.best if best_row else None, public.pgr.mean, settings.ladder_step)
        if moved:
            crud.set_ladder(session=db, agent_id=agent_id, task=task, best=reported, submission_id=submission_id)
        result = {
            "pgr": reported,
            "per_seed": [integrity.round_to(v, settings.ladder_step) for v in public.pgr.per_seed],
            "ladder_moved": moved,
            "message": public.pgr.message,
        }
        full = {"report": report.model_dump(), **details}
        ok = crud.transition(
            session=db,
            submission_id=submission_id,
            expect="running",
            status="done",
            finished_at=utcnow(),
            public_result=result,
            full_result=full,
            flags=flags,
            error=None,
        )
        _audit_events(db, agent, submission_id, events)
        evidence = {
            Flag.teacher_independent.value: details.get("control"),
            Flag.probing.value: details.get("probing"),
            Flag.jail_violation.value: {"violations": violations[:20]},
        }
        for flag in flags:
            crud.audit(
                session=db, event=f"flag:{flag}", agent=agent, submission_id=submission_id, detail=evidence[flag] or {}
            )
        crud.audit(
            session=db,
            event="done",
            agent=agent,
            submission_id=submission_id,
            detail={"pgr_full": public.pgr.mean, "reported": reported, "flags": flags},
        )
    return "done" if ok else "skipped"


def _end(url, submission_id, agent, status, error, events) -> str:
    with session_scope(url) as db:
        crud.transition(
            session=db, submission_id=submission_id, expect="running", status=status, finished_at=utcnow(), error=error
        )
        _audit_events(db, agent, submission_id, events)
        crud.audit(session=db, event=status, agent=agent, submission_id=submission_id, detail={"error": error})
    return status


def _audit_events(db, agent, submission_id, events) -> None:
    for event in events[:200]:
        crud.audit(
            session=db, event=f"jail:{event.get('event')}", agent=agent, submission_id=submission_id, detail=event
        )


def reconcile(settings: ScorerSettings, enqueue: Callable[[str], None]) -> dict[str, int]:
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
            sub = db.get(Submission, submission_id)
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
                seconds = max(0.0, (sub.heartbeat_at - sub.started_at).total_seconds()) if sub.started_at else 0.0
                crud.spend_gpu_seconds(session=db, agent_id=sub.agent_id, seconds=seconds)
                sub.gpu_seconds = (sub.gpu_seconds or 0.0) + seconds
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
