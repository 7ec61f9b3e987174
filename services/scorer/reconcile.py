"""The reconciler: re-enqueue lost queued jobs, recover running jobs whose worker stopped beating (charging
the compute time of the killed attempt), bury the rest.

Every worker and every scorer API process runs it (``reconcile_forever``), so a job whose worker was killed
whole is recovered by whoever is alive. Passes are safe to run at once: each recovery is a compare-and-set
transition, and a job sent twice is claimed once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from services.common.db import session_scope, utcnow
from services.scorer.config import ScorerSettings
from services.scorer.db import crud
from services.scorer.db.models import Submission

log = logging.getLogger("aar.scorer.reconcile")


def reconcile(settings: ScorerSettings, enqueue: Callable[[str], object]) -> dict[str, int]:
    """One pass of the reconciler; the counts of what it did."""
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


def reconcile_forever(settings: ScorerSettings, enqueue: Callable[[str], object], stop: threading.Event) -> None:
    """A pass every ``AAR_SCORER_RECONCILE_EVERY_S`` until ``stop`` is set; a failed pass is logged and the
    next one tries again (its connections are fresh: a failed session is closed and the pool reconnects)."""
    while not stop.wait(settings.reconcile_every_s):
        try:
            counts = reconcile(settings, enqueue)
            if any(counts.values()):
                log.info("reconciled", extra=counts)
        except Exception:
            log.exception("reconcile failed")
