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
    best first (an entry an uncleared inspector FAIL holds: admins only); once the task is finalised,
    ranked by ``AAR_SCORER_FINAL_RANKING``: the private split of the submission behind it, its held-out
    transfer, or their mean."""
    name = runtime.catalogue.task(task).name
    finalised = crud.is_finalised(session=session, task=name)
    show_private = caller.is_admin or finalised
    rows = crud.leaderboard_rows(session=session, task=name, held=caller.is_admin)
    heldout = crud.heldout_scores(session=session, parents=[sub.id for _, _, sub in rows]) if show_private else {}
    agent_ids = [ladder.agent_id for ladder, _, _ in rows]
    inspected = (
        {row.agent_id: row for row, _ in crud.inspections(session=session, agent_ids=agent_ids)}
        if caller.is_admin
        else {}
    )
    entries = [
        views.leaderboard_entry(
            ladder,
            agent,
            sub,
            show_private,
            caller.is_admin,
            heldout.get(sub.id, []),
            inspected.get(ladder.agent_id),
        )
        for ladder, agent, sub in rows
    ]
    if finalised:
        entries.sort(key=lambda e: views.final_rank(e, runtime.settings.final_ranking))
    return Leaderboard(task=name, finalised=finalised, entries=entries)
