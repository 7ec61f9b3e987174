"""The researcher loop driven through the real ``anthropic`` SDK against a scripted Messages API server."""

from __future__ import annotations

import json
import time

import pytest
from pydantic import BaseModel

from tests.utils.scripted_llm import ScriptedLLM, failure, reply, text, tool_use, usage
from workers.agent.backends.anthropic import AnthropicBackend
from workers.agent.budget import Budget, CampaignLedger, Limits, PriceTable, TokenUsage, Usage
from workers.agent.config import AgentSettings
from workers.agent.loop import INTERRUPTED, Researcher, load_state
from workers.agent.records import ExecData, Record
from workers.agent.tools.base import Tool, Toolbox, ToolError, ToolReply
from workers.agent.transcript import Transcript, read_records


class EchoIn(BaseModel):
    text: str


class Crash(BaseException):
    """Stands for the worker process dying mid-tool (not an Exception, so nothing catches it)."""


def tools(calls: list[str]) -> Toolbox:
    def echo(a: EchoIn, ctx) -> ToolReply:
        calls.append(a.text)
        return ToolReply(f"echo: {a.text}", ExecData(exit_code=len(a.text)))

    def refuse(a: EchoIn, ctx) -> str:
        raise ToolError(f"cannot {a.text}")

    def buggy(a: EchoIn, ctx) -> str:
        raise RuntimeError("boom")

    def die(a: EchoIn, ctx) -> str:
        raise Crash()

    return Toolbox(
        [
            Tool(n, f"{n} tool", EchoIn, f)
            for n, f in [("echo", echo), ("refuse", refuse), ("buggy", buggy), ("die", die)]
        ]
    )


def settings(llm: ScriptedLLM, **overrides) -> AgentSettings:
    base = dict(
        backend="anthropic",
        anthropic_api_key="sk-test",
        anthropic_base_url=llm.base_url,
        max_retries=4,
        model="claude-opus-4-6",
        max_idle_turns=2,
        max_tokens=1024,
    )
    return AgentSettings(**(base | overrides))


def researcher(
    llm, tmp_path, *, limits=None, calls=None, state_usage=None, campaign=None, notebook="", **overrides
) -> Researcher:
    s = settings(llm, **overrides)
    transcript = Transcript(tmp_path / "agent.jsonl")
    return Researcher(
        name="r1",
        backend=AnthropicBackend(s, on_api_error=lambda e: transcript.write("api_error", **e)),
        toolbox=tools(calls if calls is not None else []),
        system_prompt="You are a test researcher.",
        opening=lambda session: f"session {session}; notebook: {notebook or 'empty'}",
        transcript=transcript,
        budget=Budget(limits or Limits(), state_usage, campaign=campaign, agent="r1"),
        prices=PriceTable.load(),
        settings=s,
    )


def records(tmp_path, kind=None) -> list[Record]:
    found = read_records(tmp_path / "agent.jsonl")
    return [r for r in found if kind is None or r.type == kind]


def test_tool_use_turns_run_tools_and_send_results_with_cache_breakpoints(tmp_path):
    call = tool_use("echo", {"text": "hello"})
    script = [
        reply([text("let me try"), call], "tool_use", usage(2000, 150, cache_creation=1800)),
        reply([text("done for now")], "end_turn", usage(300, 20, cache_read=1800)),
        reply([text("still done")], "end_turn"),
    ]
    calls: list[str] = []
    with ScriptedLLM(script) as llm:
        assert researcher(llm, tmp_path, calls=calls).run() == "finished"
    assert calls == ["hello"]
    first, second, third = llm.requests
    assert first["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert first["tools"][-1]["cache_control"] == {"type": "ephemeral"} and len(first["tools"]) == 4
    result = second["messages"][-1]["content"][0]
    assert result["type"] == "tool_result" and result["tool_use_id"] == call["id"]
    assert result["content"] == "echo: hello" and result["cache_control"] == {"type": "ephemeral"}
    assert second["messages"][1]["content"][1] == call  # the assistant turn is echoed unchanged
    assert "Continue your research" in third["messages"][-1]["content"][0]["text"]
    assert records(tmp_path, "tool_result")[0].data == ExecData(exit_code=5)
    model_calls = records(tmp_path, "model_call")
    assert [r.request_id for r in model_calls][0].startswith("req_msg_")
    # 2000 in, 150 out, 1800 cache writes at $5 / $25 / $6.25 per MTok
    assert model_calls[0].cost_usd == pytest.approx((2000 * 5 + 150 * 25 + 1800 * 6.25) / 1e6)
    end = records(tmp_path, "agent_end")[-1]
    assert end.reason == "finished" and end.totals.model_calls == 3 and end.totals.tool_calls == 1
    assert end.totals.tokens.cache_read_input_tokens == 1800


def test_429_and_529_are_retried_after_retry_after(tmp_path):
    script = [failure(429, "1"), failure(529, "1"), reply([text("hi")]), reply([text("bye")])]
    with ScriptedLLM(script) as llm:
        assert researcher(llm, tmp_path).run() == "finished"
    gaps = [b - a for a, b in zip(llm.request_times, llm.request_times[1:], strict=False)]
    assert gaps[0] >= 0.95 and gaps[1] >= 0.95  # the SDK waited as told
    assert [e.status for e in records(tmp_path, "api_error")] == [429, 529]
    assert len(records(tmp_path, "model_call")) == 2


def test_a_model_that_stays_down_ends_the_run_cleanly(tmp_path):
    with ScriptedLLM([failure(529, "0.1")] * 3) as llm:
        reason = researcher(llm, tmp_path, max_retries=2).run()
    assert reason.startswith("model unavailable")
    assert records(tmp_path)[-1].type == "agent_end"


def test_every_stop_reason(tmp_path):
    cut = tool_use("echo", {"text": "never run"})
    script = [
        reply([text("long answer"), cut], "max_tokens"),
        reply([text("paused")], "pause_turn"),
        reply([text("continuing"), tool_use("echo", {"text": "ok"})], "tool_use"),
        reply([text("I can't help with that.")], "refusal"),
        reply([text("back")], "stop_sequence"),
        reply([text("...")], "model_context_window_exceeded"),
        reply([text("new session")], "end_turn"),
        reply([text("idle")], "end_turn"),
    ]
    calls: list[str] = []
    with ScriptedLLM(script) as llm:
        assert researcher(llm, tmp_path, calls=calls, notebook="remember this").run() == "finished"
    assert calls == ["ok"]  # the cut-off call was dropped, the refusal's turn ran nothing
    after_cut = llm.requests[1]["messages"]
    assert [b["type"] for b in after_cut[1]["content"]] == ["text"]
    assert "cut off" in after_cut[2]["content"][0]["text"]
    assert llm.requests[2]["messages"][-1]["role"] == "assistant"  # pause_turn: sent back to continue
    sessions = [r.session for r in records(tmp_path, "session_start")]
    assert sessions == [1, 2, 3]  # the refusal and the full context window each started a fresh session
    assert llm.requests[4]["messages"][0]["content"][0]["text"].startswith("session 2")
    assert "remember this" in llm.requests[6]["messages"][0]["content"][0]["text"]
    ends = [r.reason for r in records(tmp_path, "session_end")]
    assert ends == ["the model refused", "the context window is full"]


def test_two_refusals_end_the_run(tmp_path):
    script = [reply([text("no")], "refusal"), reply([text("still no")], "refusal")]
    with ScriptedLLM(script) as llm:
        assert researcher(llm, tmp_path).run() == "the model refused twice"


def test_a_prompt_too_long_error_starts_a_fresh_session(tmp_path):
    script = [
        failure(400, message="prompt is too long: 210000 tokens > 200000 maximum"),
        reply([text("fresh")]),
        reply([text("fresh again")]),
    ]
    with ScriptedLLM(script) as llm:
        assert researcher(llm, tmp_path).run() == "finished"
    assert [r.session for r in records(tmp_path, "session_start")] == [1, 2]


def test_large_input_starts_a_fresh_session_past_the_context_limit(tmp_path):
    script = [
        reply([tool_use("echo", {"text": "a"})], "tool_use", usage(input_tokens=5000)),
        reply([text("x")]),
        reply([text("y")]),
    ]
    with ScriptedLLM(script) as llm:
        researcher(llm, tmp_path, context_limit_tokens=4000).run()
    assert len(llm.requests[1]["messages"]) == 1  # only the new session's opening message


def test_tool_failures_go_back_to_the_model_as_errors(tmp_path):
    script = [
        reply(
            [
                tool_use("refuse", {"text": "x"}),
                tool_use("buggy", {"text": "y"}),
                tool_use("nope", {"text": "z"}),
                tool_use("echo", {"wrong": 1}),
            ],
            "tool_use",
        ),
        reply([text("noted")]),
        reply([text("done")]),
    ]
    with ScriptedLLM(script) as llm:
        assert researcher(llm, tmp_path).run() == "finished"
    results = llm.requests[1]["messages"][-1]["content"]
    assert all(r["is_error"] for r in results)
    assert "cannot x" in results[0]["content"]
    assert "internal error in buggy: RuntimeError: boom" in results[1]["content"]
    assert "unknown tool 'nope'" in results[2]["content"]
    assert "invalid input for echo" in results[3]["content"] and "text" in results[3]["content"]


def test_dollar_budget_stops_after_the_call_without_running_its_tools(tmp_path):
    calls: list[str] = []
    script = [reply([tool_use("echo", {"text": "expensive"})], "tool_use", usage(100_000, 10_000))]
    with ScriptedLLM(script) as llm:
        reason = researcher(llm, tmp_path, calls=calls, limits=Limits(max_usd=0.5)).run()
    assert reason.startswith("budget exhausted") and "dollars" in reason
    assert calls == []
    end = records(tmp_path)[-1]
    assert end.type == "agent_end" and end.totals.cost_usd == pytest.approx(0.75)


@pytest.mark.parametrize(
    "limits,spent,what",
    [
        (Limits(max_tokens=1000), Usage(tokens=TokenUsage(input_tokens=1000)), "tokens"),
        (Limits(max_tool_calls=3), Usage(tool_calls=3), "tool calls"),
        (Limits(max_working_s=10), Usage(working_s=11), "working seconds"),
        (Limits(max_model_calls=2), Usage(model_calls=2), "model calls"),
    ],
)
def test_an_exhausted_budget_is_checked_before_any_model_call(tmp_path, limits, spent, what):
    with ScriptedLLM([reply([text("should not be asked")])]) as llm:
        reason = researcher(llm, tmp_path, limits=limits, state_usage=spent).run()
    assert what in reason and llm.requests == []


def test_wall_clock_budget(tmp_path):
    with ScriptedLLM([reply([text("x")])]) as llm:
        r = researcher(llm, tmp_path, limits=Limits(max_wall_s=60))
        r.budget.started_at = time.time() - 61
        assert "wall-clock" in r.run() and llm.requests == []


def test_campaign_budget_is_shared_between_agents(tmp_path):
    ledger = CampaignLedger(Limits(max_usd=1.0))
    spent = Usage(cost_usd=0.6)
    Budget(Limits(), spent, campaign=ledger, agent="other")
    with ScriptedLLM([reply([text("a")], use=usage(100_000, 0))]) as llm:  # $0.50 more: the campaign hits $1.10
        reason = researcher(llm, tmp_path / "b", campaign=ledger).run()
    assert reason.startswith("campaign budget exhausted")


def test_resume_after_a_crash_mid_tool_from_the_transcript(tmp_path):
    first = tool_use("echo", {"text": "one"})
    dying = tool_use("die", {"text": "now"})
    calls: list[str] = []
    with ScriptedLLM([reply([first, dying], "tool_use", usage(1000, 100))]) as llm:
        with pytest.raises(Crash):
            researcher(llm, tmp_path, calls=calls).run()
    before = llm.requests[0]["messages"]
    state = load_state(tmp_path / "agent.jsonl")
    assert state.ended is None and [b["id"] for b in state.pending_tool_calls] == [dying["id"]]
    assert state.results == {first["id"]: ExecData(exit_code=3)}  # the structured result, from the transcript
    assert state.usage.model_calls == 1 and state.usage.tool_calls == 1
    with ScriptedLLM([reply([text("resumed")]), reply([text("bye")])]) as llm:
        r = researcher(llm, tmp_path, calls=calls, state_usage=state.usage)
        assert r.run(state) == "finished"
    messages = llm.requests[0]["messages"]
    assert messages[0]["content"][0]["text"] == before[0]["content"][0]["text"]
    results = messages[-1]["content"]
    assert [(b["tool_use_id"], b["is_error"]) for b in results] == [(first["id"], False), (dying["id"], True)]
    assert results[1]["content"] == INTERRUPTED
    assert calls == ["one"]  # nothing ran twice
    assert records(tmp_path, "agent_end")[-1].totals.model_calls == 3


def test_a_finished_transcript_resumes_as_ended(tmp_path):
    with ScriptedLLM([reply([text("a")]), reply([text("b")])]) as llm:
        researcher(llm, tmp_path).run()
    assert load_state(tmp_path / "agent.jsonl").ended == "finished"
    lines = (tmp_path / "agent.jsonl").read_text().splitlines()
    assert all(json.loads(line)["at"] for line in lines)
