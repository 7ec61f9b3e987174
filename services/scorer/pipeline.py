"""What the worker does with one submission id: prepare, claim, run, record. Safe to run twice.

Postgres (or SQLite) is the record; the queue only carries ids. A job is claimed with a compare-and-set
(``claims``); a second delivery of the same id finds it claimed or finished and does nothing.
Infrastructure failures put the job back in the queue until ``max_attempts``, then mark it ``dead``; a
method's own failure marks it ``failed``. The baselines of the task's teacher pool are prepared before
the claim (trusted work, never charged); the agent is charged the wall time of its method's runs, failed
ones included, and nothing else.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from sandbox.jail import Jail
from services.common.db import session_scope, utcnow
from services.scorer.budget import ComputeBudgetExceeded, check_budget
from services.scorer.claims import Job, claim
from services.scorer.config import ScorerSettings
from services.scorer.db import crud
from services.scorer.db.models import Submission
from services.scorer.heartbeat import Heartbeat
from services.scorer.jail import ENGINE_RUNTIME, Cancelled, JailMethodError, run_in_jail
from services.scorer.record import RunLog, end, finish
from services.scorer.warm import WarmJails
from w2s.config import resolve_device
from w2s.errors import MethodError, W2SError
from w2s.jobs import MethodJob
from w2s.scoring import ScoreReport, draw_teachers, prepare_baselines, score_method, score_predictions, teacher_pool

log = logging.getLogger("aar.scorer.pipeline")
INFRASTRUCTURE_ERROR = "the scorer could not run this submission (an infrastructure failure); it is retried"


def process(submission_id: str, settings: ScorerSettings) -> str:
    """Run one submission to a final state. Returns ``skipped``, ``done``, ``failed``, ``cancelled``,
    ``dead`` or ``retry`` (put back in the queue after an infrastructure failure)."""
    prepare(submission_id, settings)
    job = claim(submission_id, settings)
    if isinstance(job, str):
        return job
    runs = RunLog()
    outcome = "retry"
    try:
        with Heartbeat(settings, submission_id) as beat:
            if job.kind == "predictions":
                report = score_predictions(job.task, job.payload["predictions"], settings.seeds, settings.device)
            else:
                if job.heldout_of is None:  # a held-out re-score is an admin's job, not the agent's
                    check_budget(job.url, job.agent_id, settings)
                report = _score_method(job, beat, runs)
        outcome = finish(job, report, runs)
    except Cancelled:
        outcome = end(job, "cancelled", None, runs)
    except (MethodError, W2SError) as exc:
        outcome = end(job, "failed", str(exc), runs)
    except Exception as exc:  # infrastructure: try again later, up to max_attempts
        log.exception("scoring crashed", extra={"submission_id": submission_id})
        outcome = _retry_or_bury(job, exc)
    finally:
        with session_scope(job.url) as db:
            crud.charge_run(session=db, submission=db.get_one(Submission, submission_id), seconds=sum(runs.seconds))
    return outcome


def prepare(submission_id: str, settings: ScorerSettings) -> None:
    """Compute and cache the baselines of a queued method submission's teacher pool before it is claimed:
    trusted work, the same for every submission on the task, never charged to an agent (and skipped when
    the job will be refused for its budget)."""
    with session_scope(settings.db_url) as db:
        sub = db.get(Submission, submission_id)
        task = sub.task if sub is not None and sub.kind == "method" and sub.status == "queued" else None
        agent_id = sub.agent_id if sub is not None and sub.heldout_of is None else None
    if task is None:
        return
    try:
        if agent_id is not None:
            check_budget(settings.db_url, agent_id, settings)
    except ComputeBudgetExceeded:
        return
    try:
        prepare_baselines(task, teacher_pool(task, settings.teacher_pool), settings.device)
    except Exception:  # the claimed job computes what is missing (still uncharged: only runs are)
        log.exception("could not prepare the baselines", extra={"submission_id": submission_id})


def prepare_tasks(settings: ScorerSettings) -> None:
    """Compute the teacher-pool baselines of every served and held-out task: the worker does it once when it
    starts, so the first job on a task rarely waits for them."""
    for task in settings.task_names + settings.heldout_task_names:
        try:
            prepare_baselines(task, teacher_pool(task, settings.teacher_pool), settings.device)
        except Exception:  # a job on the task computes what is missing
            log.exception("could not prepare the baselines", extra={"task": task})


_WARM: dict[tuple[int, str, int], WarmJails] = {}


def _warm_jails(settings: ScorerSettings, device: str) -> WarmJails:
    """This worker process's jail started ahead of the next submission (``services.scorer.warm``)."""
    key = (settings.jail_memory_mb, device, settings.job_time_limit_s)
    if key not in _WARM:
        make = lambda: Jail(runtime=ENGINE_RUNTIME, memory_mb=settings.jail_memory_mb, device=device)  # noqa: E731
        _WARM[key] = WarmJails(make, start_timeout_s=settings.job_time_limit_s)
    return _WARM[key]


def _retry_or_bury(job: Job, exc: Exception) -> str:
    dead = job.attempt >= job.settings.max_attempts
    with session_scope(job.url) as db:
        crud.transition(
            session=db,
            submission_id=job.submission_id,
            expect="running",
            status="dead" if dead else "queued",
            error=INFRASTRUCTURE_ERROR,  # the exception (host details) goes to the audit log only
            finished_at=utcnow() if dead else None,
        )
        crud.audit(
            session=db,
            event="dead" if dead else "requeued",
            agent=job.agent,
            submission_id=job.submission_id,
            detail={"error": f"{type(exc).__name__}: {exc}", "attempt": job.attempt},
        )
    return "dead" if dead else "retry"


def _score_method(job: Job, beat: Heartbeat, runs: RunLog) -> ScoreReport:
    """One run per teacher drawn from the task's secret pool, in a secret order, each a fresh isolated
    process of one warm jail (``sandbox.jail.Jail``: the runtime is imported once per submission).

    Nothing inside the jail names the submission, its teacher or its place among the runs."""
    settings, source = job.settings, job.payload["source"]
    deadline = time.monotonic() + settings.job_time_limit_s
    device = resolve_device(settings.device)
    teachers = draw_teachers(teacher_pool(job.task, settings.teacher_pool), settings.seeds, job.submission_id)
    warm = _warm_jails(settings, device).take()  # this submission's own jail, started ahead when it could be

    def execute(method_job: MethodJob) -> np.ndarray:
        with session_scope(job.url) as db:
            crud.set_progress(
                session=db, submission_id=job.submission_id, run=len(runs.seconds) + 1, runs=len(teachers)
            )
        started = time.monotonic()
        refused: dict[str, int] = {}
        events: list[dict] = []
        try:
            run = run_in_jail(
                method_job,
                source,
                timeout_s=max(1.0, deadline - time.monotonic()),
                memory_mb=settings.jail_memory_mb,
                should_cancel=beat.cancelled.is_set,
                warm=warm,
            )
            refused, events = run.refused, run.events
            return run.predictions
        except JailMethodError as exc:
            refused, events = exc.refused, exc.events
            raise
        finally:
            runs.add(time.monotonic() - started, refused, events)

    with warm:
        return score_method(
            job.task,
            f"submission {job.submission_id}",
            device=settings.device,
            execute=execute,
            teachers=teachers,
            salt=job.submission_id,
            parallel=settings.parallel_runs,
        )
