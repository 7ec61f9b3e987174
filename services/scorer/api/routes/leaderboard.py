"""The leaderboard: server-computed ladder scores only; private scores for admins until finalised."""

from fastapi import APIRouter

from services.scorer import views
from services.scorer.api.deps import CallerDep, RuntimeDep, SessionDep
from services.scorer.contract import Leaderboard
from services.scorer.db import crud

router = APIRouter(prefix="/v1/leaderboard", tags=["leaderboard"])


@router.get("", response_model=Leaderboard)
def leaderboard(task: str, caller: CallerDep, session: SessionDep, runtime: RuntimeDep) -> Leaderboard:
    """Each agent's ladder score on ``task`` from verified method submissions (predictions never rank),
    best first; once the task is finalised, ranked by the private split of the submission behind it."""
    name = runtime.catalogue.task(task).name
    finalised = crud.is_finalised(session=session, task=name)
    show_private = caller.is_admin or finalised
    entries = [
        views.leaderboard_entry(ladder, agent, sub, show_private)
        for ladder, agent, sub in crud.leaderboard_rows(session=session, task=name)
    ]
    if finalised:
        entries.sort(key=lambda e: (e.private_pgr is None, -(e.private_pgr or 0.0)))
    return Leaderboard(task=name, finalised=finalised, entries=entries)
