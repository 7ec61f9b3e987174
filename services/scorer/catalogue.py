"""The tasks this scorer serves, and their downloadable inputs, built once per process in the background."""

from __future__ import annotations

import logging
import threading

from services.scorer.contract import TaskInputs, TaskItem, TransferItem
from w2s.errors import W2SError
from w2s.tasks import Task, get_task

log = logging.getLogger("aar.scorer.tasks")


class UnknownTask(LookupError):
    """A task name this scorer does not serve (or cannot load); the API answers 404 with the message."""


class PreparedInputs:
    """Task inputs built once per process in a background thread: the first build of a cold task embeds
    its dataset and trains the seed-0 teacher (about a minute on 2 cores), far too long for a request."""

    def __init__(self) -> None:
        self._ready: dict[tuple[str, str], TaskInputs] = {}
        self._building: set[tuple[str, str]] = set()
        self._failed: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def get(self, name: str, device: str) -> TaskInputs | None:
        """The inputs when ready; otherwise start building them (once) and return ``None``."""
        key = (name, device)
        with self._lock:
            if key in self._ready:
                return self._ready[key]
            if key in self._failed:
                raise RuntimeError(self._failed.pop(key))
            if key not in self._building:
                self._building.add(key)
                threading.Thread(target=self._build, args=key, daemon=True, name=f"inputs-{name}").start()
        return None

    def _build(self, name: str, device: str) -> None:
        try:
            inputs = build_inputs(name, device)
            with self._lock:
                self._ready[(name, device)] = inputs
        except Exception as exc:  # reported to the next caller, then retried
            log.exception("building task inputs failed", extra={"task": name})
            with self._lock:
                self._failed[(name, device)] = f"{type(exc).__name__}: {exc}"
        finally:
            with self._lock:
                self._building.discard((name, device))


def build_inputs(name: str, device: str) -> TaskInputs:
    """Transfer items with the weak teacher's labels (seed 0) and the test_public inputs. No labels."""
    from w2s.baselines import get_baseline

    task = get_task(name)
    weak = get_baseline(task, 0, device)[0].weak_labels
    transfer = task.splits["train_unlabel"].inputs
    test = task.splits["test_public"].inputs
    return TaskInputs(
        task=name,
        transfer=[
            TransferItem(id=i, text=t, weak_label=w) for i, t, w in zip(transfer.ids, transfer.texts, weak, strict=True)
        ],
        test_public=[TaskItem(id=i, text=t) for i, t in zip(test.ids, test.texts, strict=True)],
    )


class Catalogue:
    """The served tasks (``AAR_SCORER_TASKS``: an operator's choice, never a client's) and their inputs."""

    def __init__(self, names: list[str], device: str):
        self.names, self.device = names, device
        self.prepared = PreparedInputs()

    def task(self, name: str) -> Task:
        """A served task; ``UnknownTask`` for any other name (the same answer for all, so none is probed)."""
        if name not in self.names:
            raise UnknownTask(f"unknown task; this scorer serves {', '.join(self.names)}")
        try:
            return get_task(name)
        except W2SError:
            log.exception("a configured task does not load", extra={"task": name})
            raise UnknownTask("this task cannot be loaded on the scorer") from None

    def tasks(self) -> list[Task]:
        return [self.task(name) for name in self.names]

    def inputs(self, task: Task) -> TaskInputs | None:
        """The task's inputs when ready, else ``None`` (building started); ``RuntimeError`` if a build failed."""
        from w2s.config import resolve_device

        return self.prepared.get(task.name, resolve_device(self.device))
