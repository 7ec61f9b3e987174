"""What the inspector reads about one agent, independent of where it came from: its transcript records,
its workspace's text files, the sources it submitted (with the scorer's flags) and its forum posts.

``read_transcript`` and ``read_workspace`` load the first two from a campaign's files (the snapshot is read
in memory, never unpacked); ``submissions_from_records`` recovers the submitted sources from a transcript
when the scorer's own copies are not at hand.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from workers.agent.inspector.snapshot import NOTES, read_workspace
from workers.agent.transcript import read_records

__all__ = [
    "NOTES",
    "AgentEvidence",
    "ForumPost",
    "SubmittedSource",
    "read_transcript",
    "read_workspace",
    "submissions_from_records",
]


class SubmittedSource(BaseModel):
    """A method the agent submitted, and how the scorer took it."""

    id: str
    task: str
    source: str
    status: str
    flags: list[str] = Field(default_factory=list)
    created_at: datetime | None = None
    description: str = ""


class ForumPost(BaseModel):
    """A post the agent wrote (``kind``: the post type, or ``comment``)."""

    id: str
    kind: str
    title: str
    body: str


class AgentEvidence(BaseModel):
    """Everything the inspector reads about one agent."""

    agent: str
    role: Literal["researcher", "hacker"] = "researcher"
    records: list[dict[str, Any]] = Field(default_factory=list)
    workspace: dict[str, str] = Field(default_factory=dict)
    submissions: list[SubmittedSource] = Field(default_factory=list)
    posts: list[ForumPost] = Field(default_factory=list)


def read_transcript(path: Path) -> list[dict[str, Any]]:
    """The records of a transcript as JSON-ready dicts (a torn last line ends the reading)."""
    return [record.model_dump(mode="json") for record in read_records(path)]


def submissions_from_records(
    records: list[dict[str, Any]], workspace: dict[str, str] | None = None
) -> list[SubmittedSource]:
    """The methods a transcript shows submitted: each ``scorer_submit_method`` call's file, as the last
    ``write_file`` before it wrote it (else as the workspace holds it), with the status and flags of the
    last scorer result about that submission."""
    written: dict[str, str] = {}
    pending: dict[str, str] = {}  # call id -> source
    found: dict[str, SubmittedSource] = {}
    for record in records:
        kind, data = record.get("type"), record.get("input") or {}
        if kind == "tool_call" and record.get("name") == "write_file":
            written[_norm(str(data.get("path", "")))] = str(data.get("content", ""))
        elif kind == "tool_call" and record.get("name") == "scorer_submit_method":
            path = _norm(str(data.get("path", "")))
            source = written.get(path, (workspace or {}).get(path))
            if source is not None:
                pending[str(record.get("id"))] = source
        elif kind == "tool_result" and isinstance(record.get("data"), dict):
            result = record["data"]
            if result.get("kind") != "submission":
                continue
            sid = str(result.get("id"))
            if record.get("id") in pending:
                found[sid] = SubmittedSource(
                    id=sid, task="", source=pending.pop(str(record.get("id"))), status=str(result.get("status"))
                )
            if sid in found:
                found[sid].status = str(result.get("status"))
                found[sid].flags = sorted(set(found[sid].flags) | set(result.get("flags") or []))
    return list(found.values())


def _norm(path: str) -> str:
    return path.removeprefix("/workspace/").removeprefix("./")
