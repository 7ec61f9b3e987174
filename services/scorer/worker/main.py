"""``aar scorer worker``: one Celery worker process (one per GPU) plus the reconciler thread and, on Redis,
the broker watch (``broker_watch``)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from celery.signals import worker_ready

from services.scorer import pipeline
from services.scorer.config import get_settings
from services.scorer.db.migrate import upgrade
from services.scorer.jail import check_prerequisites
from services.scorer.worker.broker_watch import BrokerWatch
from services.scorer.worker.celery_app import QUEUE, celery_app, enqueue

log = logging.getLogger("aar.scorer.worker")


def _reconcile_forever(stop: threading.Event) -> None:
    settings = get_settings()
    while not stop.wait(settings.reconcile_every_s):
        try:
            counts = pipeline.reconcile(settings, lambda sid: enqueue(sid, settings))
            if any(counts.values()):
                log.info("reconciled", extra=counts)
        except Exception:
            log.exception("reconcile failed")


def _migrate_with_retry(url: str, tries: int = 10) -> None:
    for attempt in range(tries):
        try:
            upgrade(url)
            return
        except Exception:  # another process may be migrating the same fresh database
            if attempt == tries - 1:
                raise
            time.sleep(1.0)


def run_worker(loglevel: str = "INFO") -> None:
    """Check the jail, migrate, start the reconciler once the pool is up, then consume the queue."""
    settings = get_settings()
    check_prerequisites()
    _migrate_with_retry(settings.db_url)
    stop = threading.Event()

    @worker_ready.connect(weak=False)
    def _start_reconciler(**_kwargs) -> None:
        threading.Thread(target=_reconcile_forever, args=(stop,), daemon=True, name="reconciler").start()
        if settings.redis_url:
            watch = BrokerWatch(settings, lambda sid: enqueue(sid, settings))
            threading.Thread(target=watch.run, args=(stop,), daemon=True, name="broker-watch").start()

    try:
        celery_app.worker_main(
            [
                "worker",
                f"--loglevel={loglevel}",
                "--pool=prefork",
                "--concurrency=1",
                "-Q",
                QUEUE,
                "-n",
                f"scorer-{os.getpid()}@{socket.gethostname()}",
                "--without-gossip",
                "--without-mingle",
            ]
        )
    finally:
        stop.set()
