"""Public task descriptions and downloadable inputs (never labels)."""

from functools import lru_cache

from fastapi import APIRouter, HTTPException, status

from services.scorer.api.deps import CallerDep, SessionDep, SettingsDep
from services.scorer.contract import TaskInputs, TaskItem, TaskPublic, TransferItem
from services.scorer.db import crud
from w2s.errors import W2SError
from w2s.tasks import TASKS, Task, get_task

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])


def load_task(name: str) -> Task:
    """The task, or 404."""
    try:
        return get_task(name)
    except W2SError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None


def public(task: Task, seeds: int, finalised: bool) -> TaskPublic:
    sizes = {k: task.sizes[k] for k in ("train_unlabel", "test_public")}
    return TaskPublic(name=task.name, description=task.description, sizes=sizes, seeds=seeds, finalised=finalised)


@router.get("", response_model=list[TaskPublic])
def list_tasks(_: CallerDep, session: SessionDep, settings: SettingsDep) -> list[TaskPublic]:
    return [public(t, settings.seeds, crud.is_finalised(session=session, task=t.name)) for t in TASKS.values()]


@router.get("/{name}", response_model=TaskPublic)
def read_task(name: str, _: CallerDep, session: SessionDep, settings: SettingsDep) -> TaskPublic:
    task = load_task(name)
    return public(task, settings.seeds, crud.is_finalised(session=session, task=task.name))


@lru_cache(maxsize=4)
def _inputs(name: str, device: str) -> TaskInputs:
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


@router.get("/{name}/inputs", response_model=TaskInputs)
def task_inputs(name: str, _: CallerDep, settings: SettingsDep) -> TaskInputs:
    """Transfer items with the weak teacher's labels (seed 0) and the test_public inputs. No labels."""
    from w2s.config import resolve_device

    load_task(name)
    return _inputs(name, resolve_device(settings.device))
