"""Typed records of a run: the lines of a transcript, and the structured results that tools attach.

A transcript is JSON lines, one ``Record`` each, written and read through ``RECORD`` (a discriminated
union on ``type``). Every record has ``type``, ``at`` (UTC ISO time) and ``session``:

- ``agent_start``: agent, backend, model, whether it resumed (once per run or resume), and the
  campaign's direction, task and id;
- ``session_start`` / ``session_end``: a fresh context (with the reason the last one ended);
- ``user``: a message the worker sent (the first prompt, a continuation nudge);
- ``model_call``: the assistant content, stop reason, usage, cost, request id, latency;
- ``api_error``: a failed HTTP attempt the SDK retried (status, retry-after);
- ``tool_call`` / ``tool_result``: what the model asked for and what it got back; a result may carry
  ``data``, the tool's structured result (``ToolData``: exit code, submission status and PGR, posts);
- ``agent_end``: the reason the run ended, and the final usage (the final record).

Records that carry ``totals`` (model calls, tool results, the end) hold the agent's running usage.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, TypeAdapter, ValidationError

from workers.agent.budget import TokenUsage, Usage

# --- structured tool results ---------------------------------------------------------------------


class ExecData(BaseModel):
    """A command run in the sandbox."""

    kind: Literal["exec"] = "exec"
    exit_code: int
    timed_out: bool = False
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


class SubmissionData(BaseModel):
    """A scorer submission as the agent sees it: status, ladder-reported PGR, flags, error."""

    kind: Literal["submission"] = "submission"
    id: str
    status: str
    pgr: float | None = None
    ladder_moved: bool | None = None
    flags: list[str] = Field(default_factory=list)
    error: str | None = None


class PostSummary(BaseModel):
    """A forum post: who wrote it, its tags and its server-verified PGR (if linked to a scored submission)."""

    id: int
    author: str
    title: str
    tags: list[str] = Field(default_factory=list)
    verified_pgr: float | None = None


class PostsData(BaseModel):
    """A list of forum posts."""

    kind: Literal["posts"] = "posts"
    posts: list[PostSummary]


ToolData = Annotated[ExecData | SubmissionData | PostsData, Field(discriminator="kind")]

# --- transcript records --------------------------------------------------------------------------

UtcTime = Annotated[datetime, PlainSerializer(lambda t: t.isoformat(), return_type=str)]


def utc_now() -> datetime:
    return datetime.now(UTC)


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str  # each record type narrows it to its name (first on every line, as before)
    at: UtcTime = Field(default_factory=utc_now)
    session: int = 0


class AgentStart(_Record):
    type: Literal["agent_start"] = "agent_start"
    agent: str
    backend: str
    model: str
    resumed: bool = False
    direction: str | None = None
    task: str | None = None
    campaign: str | None = None
    role: str | None = None


class SessionStart(_Record):
    type: Literal["session_start"] = "session_start"
    reason: str | None = None


class SessionEnd(_Record):
    type: Literal["session_end"] = "session_end"
    reason: str | None = None


class UserMessage(_Record):
    type: Literal["user"] = "user"
    content: list[dict[str, Any]]


class ModelCall(_Record):
    type: Literal["model_call"] = "model_call"
    model: str | None = None
    request_id: str | None = None
    stop_reason: str
    usage: TokenUsage = Field(default_factory=TokenUsage)
    cost_usd: float = 0.0
    latency_s: float = 0.0
    content: list[dict[str, Any]] = Field(default_factory=list)
    idle_turns: int = 0
    refusals: int = 0
    totals: Usage | None = None


class ApiError(_Record):
    type: Literal["api_error"] = "api_error"
    status: int
    retry_after: str | None = None
    request_id: str | None = None


class ToolCall(_Record):
    type: Literal["tool_call"] = "tool_call"
    id: str
    name: str
    input: dict[str, Any] | None = None


class ToolResult(_Record):
    type: Literal["tool_result"] = "tool_result"
    id: str
    name: str
    is_error: bool
    content: str
    duration_s: float | None = None
    data: ToolData | None = None
    totals: Usage | None = None


class AgentEnd(_Record):
    type: Literal["agent_end"] = "agent_end"
    reason: str
    totals: Usage | None = None


Record = Annotated[
    AgentStart | SessionStart | SessionEnd | UserMessage | ModelCall | ApiError | ToolCall | ToolResult | AgentEnd,
    Field(discriminator="type"),
]
RECORD: TypeAdapter[Record] = TypeAdapter(Record)


class Unreadable(BaseModel):
    """What a reader shows for a line that is no record (garbled, or of a type this version does not know)."""

    type: Literal["unreadable"] = "unreadable"
    raw: str


def dump(record: Record) -> str:
    """One transcript line (without the newline)."""
    return record.model_dump_json(exclude_none=True)


def parse(line: str | bytes) -> Record | Unreadable:
    """The record on one transcript line, or ``Unreadable`` with the line's start."""
    try:
        return RECORD.validate_json(line)
    except ValidationError:
        raw = line if isinstance(line, str) else line.decode("utf-8", "replace")
        return Unreadable(raw=raw[:500])


def is_json(line: str | bytes) -> bool:
    """Whether ``line`` is complete JSON (a torn last line, from a crash mid-write, is not)."""
    try:
        json.loads(line)
    except ValueError:
        return False
    return True
