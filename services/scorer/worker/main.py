"""``aar scorer worker``: one Celery worker process (one per GPU) plus the reconciler thread and, on Redis,
the broker watch (``broker_watch``)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from celery.signals import worker_ready

from services.scorer.db.migrate import upgrade
from services.scorer.jail import check_prerequisites
from services.scorer.pipeline import prepare_tasks
from services.scorer.reconcile import reconcile_forever
from services.scorer.worker.broker_watch import BrokerWatch
from services.scorer.worker.celery_app import QUEUE
from services.scorer.worker.tasks import celery_app, queue, settings

log = logging.getLogger("aar.scorer.worker")


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
    check_prerequisites()
    _migrate_with_retry(settings.db_url)
    threading.Thread(target=prepare_tasks, args=(settings,), daemon=True, name="prepare").start()
    stop = threading.Event()

    @worker_ready.connect(weak=False)
    def _start_reconciler(**_kwargs) -> None:
        args = (settings, queue.enqueue, stop)
        threading.Thread(target=reconcile_forever, args=args, daemon=True, name="reconciler").start()
        if settings.redis_url:
            watch = BrokerWatch(settings, queue.enqueue)
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
