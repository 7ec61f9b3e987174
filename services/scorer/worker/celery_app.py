"""The Celery app, configured for long jobs (see docs/scorer.md for why each setting is there).

- Redis when ``REDIS_URL`` is set, else a filesystem transport under ``AAR_HOME`` (embedded default),
  whose messages are written atomically (``fs_transport``).
- Messages carry only a submission id; the database is the record, so there is no result backend.
- ``acks_late`` + prefetch 1 + one process: a job is acknowledged only after it ran, and a worker never
  holds a second job while the first runs.
- ``visibility_timeout`` is above the hard time limit, for the broker and the result-backend
  transport alike, so Redis never re-delivers a job that is still running.
"""

from __future__ import annotations

import logging

from celery import Celery

from services.common.db import session_scope
from services.scorer.config import ScorerSettings
from services.scorer.db import crud

log = logging.getLogger("aar.scorer.queue")
SCORE_TASK = "aar.scorer.score"
QUEUE = "scoring"


def make_celery(settings: ScorerSettings) -> Celery:
    app = Celery("aar-scorer")
    transport_options: dict[str, object] = {"visibility_timeout": settings.visibility_timeout_s}
    transport = None
    if settings.redis_url:
        broker = settings.redis_url
    else:
        folder = settings.home / "queue"
        for sub in ("messages", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        broker = "filesystem://"
        transport = "services.scorer.worker.fs_transport:Transport"
        transport_options |= {
            "data_folder_in": str(folder / "messages"),
            "data_folder_out": str(folder / "messages"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),  # exchange tables (kombu's default is ./control)
            "polling_interval": 0.1,  # the folder is polled: 1 s by default, which was most of queue-to-start
            "store_processed": False,
        }
    app.conf.update(
        broker_url=broker,
        broker_transport=transport,
        broker_transport_options=transport_options,
        result_backend=None,
        result_backend_transport_options={"visibility_timeout": settings.visibility_timeout_s},
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_concurrency=1,
        task_soft_time_limit=settings.task_time_limit_s - 60,
        task_time_limit=settings.task_time_limit_s,
        task_default_queue=QUEUE,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        worker_enable_remote_control=bool(settings.redis_url),
        worker_send_task_events=False,
        worker_hijack_root_logger=False,
        imports=["services.scorer.worker.tasks"],
    )
    return app


class Queue:
    """Sends submission ids to the scoring queue of one Celery app (built from ``settings`` unless given)."""

    def __init__(self, settings: ScorerSettings, app: Celery | None = None):
        self.settings = settings
        self.app = app or make_celery(settings)

    def enqueue(self, submission_id: str, stamped: bool = False) -> bool:
        """Send the id to the queue and stamp ``enqueued_at`` — unless the caller already stamped it in the
        transaction that created the row (``stamped``, one write fewer per submission). A broker outage is
        logged, not raised: the job stays ``queued``, unstamped, and the reconciler sends it again. When the
        database cannot take that mark either (a full disk), the row keeps its stamp and the reconciler sends it
        again once the stamp is ``AAR_SCORER_REQUEUE_AFTER_S`` old: the stored submission is never lost, and the
        client's 202 stands."""
        try:
            self.app.send_task(SCORE_TASK, args=[submission_id], queue=QUEUE)
            sent = True
        except Exception:
            log.exception("enqueue failed; the reconciler will retry", extra={"submission_id": submission_id})
            sent = False
        if sent != stamped:
            try:
                with session_scope(self.settings.db_url) as db:
                    crud.stamp_enqueued(session=db, submission_id=submission_id, sent=sent)
            except Exception:
                log.exception("marking the enqueue failed", extra={"submission_id": submission_id, "sent": sent})
        return sent
