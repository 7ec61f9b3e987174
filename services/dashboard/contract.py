"""The dashboard's wire contract: the JSON its page reads. Scores are the scorer's own (admin view), never
recomputed here; forum posts and comments are the forum's models."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.common.contract import Message, Problem
from services.forum.contract import CommentPublic, PostPublic
from services.scorer.contract import Attack, Inspection

__all__ = ["Message", "Problem"]

SCHEMA_VERSION = "1"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class LeaderRow(BaseModel):
    agent: str
    submission_id: str
    kind: str
    pgr: float | None = Field(description="the agent's ladder score, as the scorer reports it")
    pgr_full: float | None = Field(None, description="full-precision public PGR of that submission (admin view)")
    private_pgr: float | None = Field(None, description="private-split PGR (admin view)")
    transfer_pgr: float | None = Field(None, description="held-out transfer PGR, once finalised (admin view)")
    flags: list[str]
    review: list[str] = Field([], description="admin-only flags that read private labels")


class LeaderboardView(BaseModel):
    task: str
    finalised: bool
    rows: list[LeaderRow]


class SubmissionRow(BaseModel):
    id: str
    agent: str
    task: str
    kind: str
    status: str
    created_at: datetime
    finished_at: datetime | None = None
    pgr: float | None = Field(None, description="the ladder-reported public PGR")
    flags: list[str] = []
    error: str | None = None
    progress: str | None = Field(None, description="queued: the place in the queue; running: run k of n")


class LiveState(BaseModel):
    """What the page polls every ~2 s: the leaderboard and the newest submissions of one task."""

    task: str
    version: str = Field(description="changes whenever anything below changes")
    at: datetime
    leaderboard: LeaderboardView
    recent: list[SubmissionRow]


class TaskName(BaseModel):
    name: str
    description: str


class PostThread(BaseModel):
    post: PostPublic
    comments: list[CommentPublic]


class CampaignStart(BaseModel):
    """The start form. Budgets use the CLI's syntax, e.g. ``usd=20,hours=8,tool_calls=500``."""

    model_config = ConfigDict(extra="forbid")

    agents: int = Field(3, ge=1, le=64)
    hackers: int = Field(0, ge=0, le=16, description="agents that attack the scorer (their submissions never rank)")
    task: str = Field("rt-polarity", min_length=1, max_length=200)
    directions: list[str] | None = Field(
        None, max_length=64, description="one starting direction per agent (cycled); empty or null: the built-in ones"
    )
    backend: Literal["auto", "anthropic", "openai", "offline"] = "auto"
    model: str | None = Field(None, max_length=100, description="default: AAR_AGENT_MODEL")
    budget: str | None = Field(None, max_length=300, description="per agent")
    campaign_budget: str | None = Field(None, max_length=300, description="for all agents together")
    sandbox: Literal["bwrap", "docker"] | None = Field(
        None, description="default: the dashboard's AAR_SANDBOX_PROVIDER (bwrap)"
    )
    experiments: int = Field(3, ge=1, le=100, description="offline researcher: experiments per agent")


CampaignState = Literal["running", "stopping", "exited", "external"]


class CampaignInfo(BaseModel):
    id: str
    task: str
    backend: str
    model: str
    agents: list[str]
    created_at: datetime
    state: CampaignState = Field(
        description="running/stopping: its `aar campaign run` child of this dashboard is alive; exited: that "
        "process has ended; external: started elsewhere (see each agent's status in its spend)"
    )
    stop_requested: bool
    pid: int | None = None
    exit_code: int | None = None
    command: list[str] | None = None
    log_tail: str | None = Field(None, description="the end of the process log (single-campaign view only)")


class CampaignList(BaseModel):
    data: list[CampaignInfo]
    count: int


class AgentSpend(BaseModel):
    agent: str
    status: str = Field(description="the reason of the final record once it ended, else 'running'")
    cost_usd: float
    tokens: int = Field(description="input, output, cache writes and cache reads")
    token_breakdown: dict[str, int]
    model_calls: int
    tool_calls: int
    wall_h: float = Field(description="from the agent's first start to its latest record")
    working_h: float
    usd_per_agent_hour: float | None


class CampaignSpend(BaseModel):
    campaign: str
    agents: list[AgentSpend]
    cost_usd: float
    tokens: int
    agent_hours: float
    usd_per_agent_hour: float | None


class CurvePoint(BaseModel):
    at: datetime
    pgr: float


class AgentProgress(BaseModel):
    agent: str
    direction: str
    submissions: int
    flagged: int
    best_pgr: float | None = Field(description="best unflagged full-precision public PGR (scorer, admin view)")
    best_private_pgr: float | None
    best_submission: str | None
    posts: int
    curve: list[CurvePoint] = Field(description="each time the best unflagged public PGR rose")


class CampaignProgress(BaseModel):
    campaign: str
    task: str
    started_at: datetime
    agents: list[AgentProgress]


class TranscriptEntry(BaseModel):
    index: int = Field(description="0-based line number in the transcript")
    record: dict[str, Any]


class TranscriptPage(BaseModel):
    campaign: str
    agent: str
    total: int
    records: list[TranscriptEntry] = Field(description="newest first")
    next_before: int | None = Field(description="pass as ?before= for the older page; null on the oldest")


class CampaignIntegrity(BaseModel):
    """What a person signing off a campaign checks: every hacker attack with the scorer's verdict (an
    ``unflagged`` one is a finding) and the inspector's verdict on every agent."""

    campaign: str
    attacks: list[Attack]
    findings: int
    inspections: list[Inspection]
    uninspected: list[str] = Field(description="agents with no verdict yet (still running, or stopped)")
