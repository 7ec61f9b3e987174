"""Notices a lost Redis queue and sends the database's queued jobs again within seconds.

The database is the record and the queue only carries ids, so a Redis that restarts without persistence (or
evicts, or is replaced) loses nothing but the messages. The reconciler would re-send them only after
``AAR_SCORER_REQUEUE_AFTER_S`` (600 s); this watch, polling every ``AAR_SCORER_BROKER_WATCH_S`` (2 s), sends
them at once when it sees any of:

- the connection failed and came back (whatever happened meanwhile, the queue may be gone);
- Redis's ``run_id`` changed (a restart: a non-persistent Redis comes back empty);
- the queue is empty while the database holds jobs sent more than ``GRACE_S`` ago that no worker claimed.

Sending a job twice is harmless: a worker claims a job with a compare-and-set, so a second delivery is
skipped. The embedded default's filesystem queue cannot lose messages this way and is not watched.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

import redis
from sqlalchemy import select

from services.common.db import session_scope, utcnow
from services.scorer.config import ScorerSettings
from services.scorer.db.models import Submission
from services.scorer.worker.celery_app import QUEUE

log = logging.getLogger("aar.scorer.broker_watch")
GRACE_S = 5.0  # a sent job may be in flight to a worker (popped, not yet claimed) for a moment


class BrokerWatch:
    """One Redis broker's state as last seen; ``check`` compares and re-sends what was lost."""

    def __init__(self, settings: ScorerSettings, enqueue: Callable[[str], object]):
        if not settings.redis_url:
            raise ValueError("a broker watch needs a Redis broker (redis_url)")
        self.settings, self.enqueue = settings, enqueue
        self.redis = redis.Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=5)
        self.run_id: str | None = None
        self.unreachable = False

    def _queue_length(self) -> int:
        """Messages waiting in the queue (kombu keeps a list per priority step: ``scoring``, ``scoring\\x06\\x163``)."""
        return sum(self.redis.llen(key) for key in self.redis.scan_iter(match=f"{QUEUE}*", count=1000))

    def _queued(self, sent_before=None) -> list[str]:
        with session_scope(self.settings.db_url, read_only=True) as db:
            query = select(Submission.id).where(Submission.status == "queued")
            if sent_before is not None:
                query = query.where(Submission.enqueued_at < sent_before)
            return list(db.scalars(query.order_by(Submission.created_at)))

    def check(self) -> str | None:
        """Look once; when the queue was lost, send every queued job again and say why (else ``None``)."""
        try:
            run_id = self.redis.info("server")["run_id"]
            waiting = self._queue_length()
        except redis.RedisError:
            if not self.unreachable:
                log.warning("broker unreachable")
            self.unreachable = True
            return None
        reason = None
        if self.unreachable:
            reason = "broker connection came back"
        elif self.run_id is not None and run_id != self.run_id:
            reason = "broker restarted"
        self.unreachable, self.run_id = False, run_id
        if reason is None and waiting == 0:
            if self._queued(sent_before=utcnow() - timedelta(seconds=GRACE_S)):
                reason = "queue empty while jobs are queued"
        if reason is None:
            return None
        lost = self._queued()
        for submission_id in lost:
            self.enqueue(submission_id)
        log.warning("re-sent queued jobs", extra={"reason": reason, "jobs": len(lost)})
        return reason

    def run(self, stop: threading.Event) -> None:
        """``check`` every ``broker_watch_s`` until ``stop`` is set."""
        while not stop.wait(self.settings.broker_watch_s):
            try:
                self.check()
            except Exception:
                log.exception("broker watch failed")
