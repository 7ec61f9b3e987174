"""A running job's heartbeat: refreshed from a background thread, which also watches the cancel flag."""

from __future__ import annotations

import logging
import threading

from services.common.db import session_scope
from services.scorer.config import ScorerSettings
from services.scorer.db import crud

log = logging.getLogger("aar.scorer.heartbeat")


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

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
