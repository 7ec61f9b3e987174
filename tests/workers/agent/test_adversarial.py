"""Attacks through the agent's tools and turns: budgets overrun in one turn, tools that outlive the time
budget or the tool timeout, and model-chosen names that would become host paths."""

from __future__ import annotations

import time
import uuid

import pytest

from sandbox import get_provider
from sandbox.base import SandboxSpec
from services.forum.client import ForumClient
from tests.utils.scripted_llm import ScriptedLLM, reply, text, tool_use
from tests.workers.agent.test_loop import records, researcher
from workers.agent.budget import Limits
from workers.agent.campaign.plan import DEFAULT_AGENT_BUDGET, parse_budget
from workers.agent.campaign.runner import agent_toolbox
from workers.agent.config import AgentSettings
from workers.agent.tools.base import Toolbox
from workers.agent.tools.forum import forum_tools
from workers.agent.tools.workspace import workspace_tools

UNREACHABLE = "http://127.0.0.1:9"  # nothing listens: a forum that is down


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    provider = get_provider("bwrap", tmp_path_factory.mktemp("sandboxes"))
    box = provider.start(SandboxSpec(label=f"adv-{uuid.uuid4().hex[:8]}"))
    yield box
    box.discard()


def test_one_turn_of_fifty_tool_calls_runs_only_the_budgeted_ten(tmp_path):
    turn = [tool_use("echo", {"text": str(i)}) for i in range(50)]
    calls: list[str] = []
    with ScriptedLLM([reply(turn, "tool_use"), reply([text("more?")])]) as llm:
        reason = researcher(llm, tmp_path, calls=calls, limits=Limits(max_tool_calls=10)).run()
    assert calls == [str(i) for i in range(10)]
    assert reason.startswith("budget exhausted") and "tool calls" in reason
    results = records(tmp_path, "tool_result")
    assert [r.id for r in results] == [c["id"] for c in turn], "every tool_use must get a tool_result"
    assert all(r.is_error and r.content.startswith("not run: budget exhausted") for r in results[10:])
    end = records(tmp_path)[-1]
    assert end.type == "agent_end" and end.totals.tool_calls == 10
    assert len(llm.requests) == 1, "no model call after the budget ran out"


def test_the_stop_flag_is_checked_before_every_tool_call(tmp_path):
    turn = [tool_use("echo", {"text": str(i)}) for i in range(20)]
    calls: list[str] = []
    with ScriptedLLM([reply(turn, "tool_use")]) as llm:
        r = researcher(llm, tmp_path, calls=calls)
        r.should_stop = lambda: len(calls) >= 3
        assert r.run() == "stopped"
    assert calls == ["0", "1", "2"]
    results = records(tmp_path, "tool_result")
    assert len(results) == 20 and all(x.content == "not run: stopped" for x in results[3:])


def _sandbox_researcher(llm, tmp_path, sandbox, limits, **settings):
    r = researcher(llm, tmp_path, limits=limits)
    r.toolbox = Toolbox(workspace_tools(sandbox, **settings))
    return r


@pytest.mark.parametrize("limits", [Limits(max_wall_s=3), Limits(max_working_s=3)], ids=["wall", "working"])
def test_a_time_budget_interrupts_a_running_tool(tmp_path, sandbox, limits):
    turn = [tool_use("bash", {"command": "sleep 30; echo slept", "timeout_s": 600})]
    with ScriptedLLM([reply(turn, "tool_use"), reply([text("again")])]) as llm:
        start = time.monotonic()
        reason = _sandbox_researcher(llm, tmp_path, sandbox, limits).run()
        elapsed = time.monotonic() - start
    assert reason.startswith("budget exhausted") and "seconds" in reason
    assert elapsed < 8, f"a 3 s budget let the run go on for {elapsed:.1f} s"
    result = records(tmp_path, "tool_result")[0]
    assert result.is_error and "timed out" in result.content and "slept" not in result.content


def test_the_tool_timeout_setting_kills_a_sleep_through_the_campaign_toolbox(sandbox, tmp_path):
    settings = AgentSettings(tool_timeout_s=1)
    forum = ForumClient(UNREACHABLE, "token")
    toolbox = agent_toolbox(settings, sandbox, tmp_path / "notebook.md", None, forum, "task", lambda: False)
    start = time.monotonic()
    outcome = toolbox.run("bash", {"command": "sleep 20; echo slept", "timeout_s": 600}, "toolu_t")
    assert outcome.is_error and "timed out after 1 s" in outcome.content
    assert time.monotonic() - start < 6


def test_tool_timeout_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("AAR_AGENT_TOOL_TIMEOUT_S", "7")
    assert AgentSettings().tool_timeout_s == 7


@pytest.mark.parametrize("how", ["absolute", "traversal", "backslashes"])
def test_forum_upload_names_never_become_host_paths(sandbox, tmp_path, how):
    """The name a model gives an upload is only the artifact's name: nothing is written on the host there,
    even when the forum is down (the file used to be written before the upload was tried)."""
    target = tmp_path / "cron.d" / "pwned"
    target.parent.mkdir()
    name = {
        "absolute": str(target),
        "traversal": "../" * 12 + str(target).lstrip("/"),
        "backslashes": "..\\..\\" + str(target),
    }[how]
    sandbox.write_file("payload.sh", "* * * * * root touch /tmp/owned\n")
    toolbox = Toolbox(forum_tools(ForumClient(UNREACHABLE, "token"), sandbox))
    outcome = toolbox.run("forum_upload", {"path": "payload.sh", "name": name}, "toolu_u")
    assert outcome.is_error and "unreachable" in outcome.content
    assert not target.exists(), "a model-chosen name wrote a host file"
    assert list(target.parent.iterdir()) == []


def test_unusable_upload_names_are_refused(sandbox):
    toolbox = Toolbox(forum_tools(ForumClient(UNREACHABLE, "token"), sandbox))
    for name in ("..", "/", "a/..", "bad\nname"):
        outcome = toolbox.run("forum_upload", {"path": "payload.sh", "name": name}, "toolu_v")
        assert outcome.is_error and "not a usable file name" in outcome.content, name


def test_agents_get_safe_default_budgets():
    limits = parse_budget(None, DEFAULT_AGENT_BUDGET)
    assert limits.max_tool_calls and limits.max_tokens and limits.max_wall_s
    assert parse_budget("tool_calls=5", DEFAULT_AGENT_BUDGET).max_tool_calls == 5
    lifted = parse_budget("tool_calls=none,hours=none", DEFAULT_AGENT_BUDGET)
    assert lifted.max_tool_calls is None and lifted.max_wall_s is None and lifted.max_tokens == limits.max_tokens
    with pytest.raises(ValueError):
        parse_budget("tool_calls=inf", DEFAULT_AGENT_BUDGET)
