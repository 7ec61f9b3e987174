"""Transcript records: one typed model that writes and reads every line, old transcripts included."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from services.dashboard.transcripts import Transcripts
from workers.agent.budget import Usage
from workers.agent.loop import load_state
from workers.agent.records import (
    AgentEnd,
    AgentStart,
    ExecData,
    ModelCall,
    SessionStart,
    SubmissionData,
    ToolResult,
    Unreadable,
    parse,
)
from workers.agent.transcript import Transcript, read_records

TOTALS = '{"tokens": {"input_tokens": 3, "output_tokens": 1, "cache_creation_input_tokens": 0, '
TOTALS += '"cache_read_input_tokens": 0}, "cost_usd": 0.01, "model_calls": 1, "tool_calls": 1, "working_s": 0.3}'
# Lines as the worker wrote them before the records were typed (json.dumps of free dicts).
OLD = f"""\
{{"type": "agent_start", "at": "2026-01-05T10:00:00.000001+00:00", "session": 0, "agent": "c1-r1", \
"backend": "offline", "model": "offline-baseline", "resumed": false, "direction": "d", "task": "rt-polarity", \
"campaign": "c1"}}
{{"type": "session_start", "at": "2026-01-05T10:00:01+00:00", "session": 1, "reason": null}}
{{"type": "user", "at": "2026-01-05T10:00:02+00:00", "session": 1, "content": [{{"type": "text", "text": "go"}}]}}
{{"type": "model_call", "at": "2026-01-05T10:00:03+00:00", "session": 1, "model": "m", "request_id": null, \
"stop_reason": "tool_use", "usage": {{"input_tokens": 3, "output_tokens": 1}}, "cost_usd": 0.01, "latency_s": 0.5, \
"content": [{{"type": "tool_use", "id": "t1", "name": "bash", "input": {{"command": "ls", "x": null}}}}, \
{{"type": "tool_use", "id": "t2", "name": "bash", "input": {{"command": "pwd"}}}}], "idle_turns": 0, \
"refusals": 0, "totals": {TOTALS}}}
{{"type": "api_error", "at": "2026-01-05T10:00:04+00:00", "session": 1, "status": 429, "retry_after": "1"}}
{{"type": "tool_call", "at": "2026-01-05T10:00:05+00:00", "session": 1, "id": "t1", "name": "bash", \
"input": {{"command": "ls"}}}}
{{"type": "tool_result", "at": "2026-01-05T10:00:06+00:00", "session": 1, "id": "t1", "name": "bash", \
"is_error": false, "content": "exit code 0", "duration_s": 0.2, "totals": {TOTALS}}}
"""


def test_an_old_transcript_reads_through_the_models_and_resumes(tmp_path):
    path = tmp_path / "old.jsonl"
    path.write_text(OLD)
    records = read_records(path)
    assert [r.type for r in records] == [
        "agent_start",
        "session_start",
        "user",
        "model_call",
        "api_error",
        "tool_call",
        "tool_result",
    ]
    start, call, result = records[0], records[3], records[6]
    assert isinstance(start, AgentStart) and start.campaign == "c1" and start.at.tzinfo is not None
    assert isinstance(call, ModelCall) and call.totals == Usage.model_validate(json.loads(TOTALS))
    assert call.content[0]["input"] == {"command": "ls", "x": None}  # content blocks kept exactly
    assert isinstance(result, ToolResult) and result.data is None
    state = load_state(path)
    assert state.session == 1 and state.usage.tool_calls == 1 and state.results == {}
    assert [b["id"] for b in state.pending_tool_calls] == ["t2"]


def test_records_round_trip_with_their_structured_results(tmp_path):
    path = tmp_path / "t.jsonl"
    transcript = Transcript(path)
    transcript.session = 2
    data = SubmissionData(id="s1", status="done", pgr=0.71, ladder_moved=True)
    written = [
        transcript.write("session_start", reason=None),
        transcript.write("tool_result", id="t", name="scorer_status", is_error=False, content="{}", data=data),
        transcript.write("tool_result", id="u", name="bash", is_error=True, content="x", data=ExecData(exit_code=1)),
        transcript.write("agent_end", reason="finished", totals=Usage(model_calls=4).model_dump()),
    ]
    transcript.close()
    assert read_records(path) == written
    assert all(r.session == 2 for r in written)
    line = json.loads(path.read_text().splitlines()[1])
    assert line["data"] == {
        "kind": "submission",
        "id": "s1",
        "status": "done",
        "pgr": 0.71,
        "ladder_moved": True,
        "flags": [],
    }
    assert line["at"].endswith("+00:00")  # the time as the worker always wrote it
    assert isinstance(written[0], SessionStart) and isinstance(written[3], AgentEnd)


def test_a_record_with_a_wrong_field_is_not_written(tmp_path):
    transcript = Transcript(tmp_path / "t.jsonl")
    with pytest.raises(ValidationError):
        transcript.write("tool_result", id="t", name="bash", is_error=False, content="x", exit_code=0)
    with pytest.raises(ValidationError):
        transcript.write("no_such_type", reason="x")
    transcript.close()
    assert (tmp_path / "t.jsonl").read_text() == ""


def test_unknown_and_torn_lines(tmp_path):
    path = tmp_path / "t.jsonl"
    lines = OLD.splitlines()
    future = '{"type": "from_the_future", "at": "2026-01-05T10:00:00+00:00", "session": 1}'
    path.write_text("\n".join([lines[0], future, lines[1], '{"type": "model_call", "to']) + "\n")
    assert [r.type for r in read_records(path)] == ["agent_start", "session_start"]  # unknown skipped, torn ends
    assert parse(future) == Unreadable(raw=future)
    assert parse(b"\xff garbage").type == "unreadable"
    total, page, _ = Transcripts().page(path, None, 10)
    assert total == 4 and [r["type"] for _, r in page] == ["unreadable", "session_start", "unreadable", "agent_start"]
    assert page[1][1] == {"type": "session_start", "at": "2026-01-05T10:00:01+00:00", "session": 1}
