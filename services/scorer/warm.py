"""A jail started ahead of the next submission: the zygote's imports are done before a job needs them.

The worker keeps one per process. ``take`` hands it to one submission (and to no other: the pipeline
closes it when the submission ends) and starts the next in the background, so a second submission reuses
nothing of the first but the host's page cache.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sandbox.jail import Jail, JailUnavailable

log = logging.getLogger("aar.scorer.warm")


class WarmJails:
    """Keeps one started ``Jail`` (built by ``make``) ready for the next submission."""

    def __init__(self, make: Callable[[], Jail], start_timeout_s: float):
        self._make, self._timeout = make, start_timeout_s
        self._lock = threading.Lock()
        self._next: tuple[Jail, threading.Thread] | None = None

    def take(self) -> Jail:
        """The jail started ahead (waiting for its start to finish), or a new one; then start the next."""
        with self._lock:
            ready, self._next = self._next, None
        if ready is None:
            jail = self._make()
        else:
            jail, starting = ready
            starting.join()
        self.prepare()
        return jail

    def prepare(self) -> None:
        """Start a jail in the background for the next submission, unless one is already there."""
        with self._lock:
            if self._next is not None:
                return
            jail = self._make()
            thread = threading.Thread(target=self._start, args=(jail,), daemon=True, name="warm-jail")
            self._next = (jail, thread)
        thread.start()

    def _start(self, jail: Jail) -> None:
        try:
            jail.start(self._timeout)
        except JailUnavailable:  # the submission that takes it starts it again and reports the failure
            log.exception("could not start a warm jail")

    def close(self) -> None:
        """Close the jail kept for the next submission."""
        with self._lock:
            ready, self._next = self._next, None
        if ready is not None:
            ready[1].join()
            ready[0].close()
