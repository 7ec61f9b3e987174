"""Scores, as the scorer computed them: tasks, the leaderboard, recent submissions, and the live poll."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.dashboard import views
from services.dashboard.api.deps import AdminDep, RuntimeDep
from services.dashboard.contract import LeaderboardView, LiveState, Problem, SubmissionRow, TaskName
from services.dashboard.live import leaderboard

router = APIRouter(
    prefix="/v1", tags=["scores"], dependencies=[AdminDep], responses={401: {"model": Problem}, 502: {"model": Problem}}
)

Task = Annotated[str, Query(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]


@router.get("/tasks", response_model=list[TaskName])
def tasks(runtime: RuntimeDep) -> list[TaskName]:
    """The scorer's tasks."""
    return [views.task_name(t) for t in runtime.upstreams.scorer.tasks()]


@router.get("/leaderboard", response_model=LeaderboardView, responses={404: {"model": Problem}})
def get_leaderboard(runtime: RuntimeDep, task: Task) -> LeaderboardView:
    """Each agent's ladder score and flags, with full-precision and private PGR (the scorer's admin view)."""
    return leaderboard(runtime.upstreams, task)


@router.get("/submissions", response_model=list[SubmissionRow])
def submissions(
    runtime: RuntimeDep,
    task: Task | None = None,
    agent: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[SubmissionRow]:
    """Newest first, every agent's (or one agent's)."""
    subs = runtime.upstreams.scorer.submissions(task=task, agent=agent, limit=limit).data
    return [views.submission_row(s) for s in subs]


@router.get("/live", response_model=LiveState, responses={404: {"model": Problem}})
def live(runtime: RuntimeDep, task: Task) -> LiveState:
    """The leaderboard and newest submissions of ``task`` with a version the page compares; the page polls
    this every ~2 s (see docs/dashboard.md for why polling rather than server-sent events)."""
    return runtime.live.state(task)
