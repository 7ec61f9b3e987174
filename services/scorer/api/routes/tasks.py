"""Public task descriptions and downloadable inputs (never labels)."""

from fastapi import APIRouter, HTTPException, status

from services.scorer import views
from services.scorer.api.deps import CallerDep, RuntimeDep, SessionDep
from services.scorer.contract import Problem, TaskInputs, TaskPublic
from services.scorer.db import crud

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])


@router.get("", response_model=list[TaskPublic])
def list_tasks(_: CallerDep, session: SessionDep, runtime: RuntimeDep) -> list[TaskPublic]:
    seeds = runtime.settings.seeds
    return [views.task(t, seeds, crud.is_finalised(session=session, task=t.name)) for t in runtime.catalogue.tasks()]


@router.get("/{name}", response_model=TaskPublic)
def read_task(name: str, _: CallerDep, session: SessionDep, runtime: RuntimeDep) -> TaskPublic:
    task = runtime.catalogue.task(name)
    return views.task(task, runtime.settings.seeds, crud.is_finalised(session=session, task=task.name))


@router.get(
    "/{name}/inputs",
    response_model=TaskInputs,
    responses={404: {"model": Problem}, 503: {"model": Problem, "description": "still preparing; see Retry-After"}},
)
def task_inputs(name: str, _: CallerDep, runtime: RuntimeDep) -> TaskInputs:
    """Transfer items with the weak teacher's labels (seed 0) and the test_public inputs. No labels.

    The first request for a cold task starts preparing it and answers 503 with ``Retry-After``.
    """
    task = runtime.catalogue.task(name)
    try:
        inputs = runtime.catalogue.inputs(task)
    except RuntimeError:  # the cause is in the log; a client learns nothing of the host from it
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"preparing {task.name} failed; retry later") from None
    if inputs is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"the inputs of {task.name} are being prepared; retry shortly",
            headers={"Retry-After": "5"},
        )
    return inputs
