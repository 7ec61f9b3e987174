"""Public task descriptions and downloadable inputs (never labels)."""

import logging
import threading

from fastapi import APIRouter, HTTPException, status

from services.scorer.api.deps import CallerDep, SessionDep, SettingsDep
from services.scorer.config import ScorerSettings
from services.scorer.contract import Problem, TaskInputs, TaskItem, TaskPublic, TransferItem
from services.scorer.db import crud
from w2s.errors import W2SError
from w2s.tasks import Task, get_task

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])
log = logging.getLogger("aar.scorer.tasks")


def load_task(name: str, settings: ScorerSettings) -> Task:
    """A task this scorer serves, or 404 (the same answer for any other name, so none is probed)."""
    if name not in settings.task_names:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"unknown task; this scorer serves {', '.join(settings.task_names)}"
        )
    try:
        return get_task(name)
    except W2SError:
        log.exception("a configured task does not load", extra={"task": name})
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this task cannot be loaded on the scorer") from None


def public(task: Task, seeds: int, finalised: bool) -> TaskPublic:
    sizes = {k: task.sizes[k] for k in ("train_unlabel", "test_public")}
    return TaskPublic(name=task.name, description=task.description, sizes=sizes, seeds=seeds, finalised=finalised)


@router.get("", response_model=list[TaskPublic])
def list_tasks(_: CallerDep, session: SessionDep, settings: SettingsDep) -> list[TaskPublic]:
    tasks = [load_task(name, settings) for name in settings.task_names]
    return [public(t, settings.seeds, crud.is_finalised(session=session, task=t.name)) for t in tasks]


@router.get("/{name}", response_model=TaskPublic)
def read_task(name: str, _: CallerDep, session: SessionDep, settings: SettingsDep) -> TaskPublic:
    task = load_task(name, settings)
    return public(task, settings.seeds, crud.is_finalised(session=session, task=task.name))


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


prepared = PreparedInputs()


@router.get(
    "/{name}/inputs",
    response_model=TaskInputs,
    responses={404: {"model": Problem}, 503: {"model": Problem, "description": "still preparing; see Retry-After"}},
)
def task_inputs(name: str, _: CallerDep, settings: SettingsDep) -> TaskInputs:
    """Transfer items with the weak teacher's labels (seed 0) and the test_public inputs. No labels.

    The first request for a cold task starts preparing it and answers 503 with ``Retry-After``.
    """
    from w2s.config import resolve_device

    task = load_task(name, settings)
    try:
        inputs = prepared.get(task.name, resolve_device(settings.device))
    except RuntimeError:  # the cause is in the log; a client learns nothing of the host from it
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"preparing {task.name} failed; retry later") from None
    if inputs is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"the inputs of {task.name} are being prepared; retry shortly",
            headers={"Retry-After": "5"},
        )
    return inputs
