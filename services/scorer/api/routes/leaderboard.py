"""The leaderboard: server-computed ladder scores only; private scores for admins until finalised."""

from fastapi import APIRouter
from sqlalchemy import select

from services.scorer.api.deps import CallerDep, SessionDep, SettingsDep
from services.scorer.api.routes.tasks import load_task
from services.scorer.contract import Leaderboard, LeaderboardEntry
from services.scorer.db import crud
from services.scorer.db.models import Agent, Ladder, Submission

router = APIRouter(prefix="/v1/leaderboard", tags=["leaderboard"])


@router.get("", response_model=Leaderboard)
def leaderboard(task: str, caller: CallerDep, session: SessionDep, settings: SettingsDep) -> Leaderboard:
    """Each agent's ladder score on ``task`` from verified method submissions (predictions never rank),
    best first; once the task is finalised, ranked by the private split of the submission behind it."""
    name = load_task(task, settings).name
    finalised = crud.is_finalised(session=session, task=name)
    show_private = caller.is_admin or finalised
    rows = session.execute(
        select(Ladder, Agent.name, Submission)
        .join(Agent, Agent.id == Ladder.agent_id)
        .join(Submission, Submission.id == Ladder.submission_id)
        .where(Ladder.task == name)
        .order_by(Ladder.best.desc())
    ).all()
    entries = []
    for ladder, agent, sub in rows:
        private = None
        if show_private and sub.full_result:
            private = sub.full_result["report"]["splits"].get("test_private", {}).get("pgr", {}).get("mean")
        entries.append(
            LeaderboardEntry(
                agent=agent,
                submission_id=sub.id,
                kind=sub.kind,
                pgr=ladder.best,
                flags=list(sub.flags or []),
                private_pgr=private,
            )
        )
    if finalised:
        entries.sort(key=lambda e: (e.private_pgr is None, -(e.private_pgr or 0.0)))
    return Leaderboard(task=name, finalised=finalised, entries=entries)
