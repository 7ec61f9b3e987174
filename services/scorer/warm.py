"""A jail started ahead of the next submission: the zygote's imports are done before a job needs them.

The worker keeps one per process. ``take`` hands it to one submission (and to no other: the pipeline
closes it when the submission ends) and asks for the next, so a second submission reuses nothing of the
first but the host's page cache.

Jails are started by one thread that lives as long as the process: bwrap's ``--die-with-parent`` is
tied to the thread that started it, and a thread that ended after a start would kill its jail.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from sandbox.jail import Jail, JailUnavailable

log = logging.getLogger("aar.scorer.warm")


class WarmJails:
    """Keeps one started ``Jail`` (built by ``make``) ready for the next submission."""

    def __init__(self, make: Callable[[], Jail], start_timeout_s: float):
        self._make, self._timeout = make, start_timeout_s
        self._lock = threading.Lock()
        self._next: tuple[Jail, threading.Event] | None = None
        self._requests: queue.SimpleQueue[tuple[Jail, threading.Event]] = queue.SimpleQueue()
        threading.Thread(target=self._starter, daemon=True, name="warm-jails").start()

    def take(self) -> Jail:
        """The jail started ahead (waiting for its start to finish), or a new one; then start the next."""
        with self._lock:
            ready, self._next = self._next, None
        if ready is None:
            jail = self._make()
        else:
            jail, started = ready
            started.wait()
        self.prepare()
        return jail

    def prepare(self) -> None:
        """Start a jail for the next submission, unless one is already there."""
        with self._lock:
            if self._next is not None:
                return
            self._next = (self._make(), threading.Event())
            self._requests.put(self._next)

    def _starter(self) -> None:
        while True:
            jail, started = self._requests.get()
            try:
                jail.start(self._timeout)
            except JailUnavailable:  # the submission that takes it starts it again and reports the failure
                log.exception("could not start a warm jail")
            finally:
                started.set()

    def close(self) -> None:
        """Close the jail kept for the next submission."""
        with self._lock:
            ready, self._next = self._next, None
        if ready is not None:
            ready[1].wait()
            ready[0].close()
