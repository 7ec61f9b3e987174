"""Campaigns through the dashboard: transcripts paged newest first, spend from running totals, progress from
``report.summarise``, and a real tiny campaign started and stopped."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sandbox.state import live
from services.dashboard.api.app import create_app
from services.dashboard.campaigns import LOG_FILE, PROCESS_FILE, STOP_FILE
from tests.services.dashboard.factories import write_campaign, write_transcript
from tests.utils.stack import wait_until
from workers.agent.transcript import read_records


def test_transcript_pages_newest_first_and_stay_stable_as_it_grows(client, admin, stack):
    plan = write_campaign(stack.home, "cpaging0001", agents=1)
    agent = plan.agents[0].name
    path = write_transcript(stack.home, plan, agent, steps=40)  # 3 + 3 * 40 = 123 records
    url = f"/v1/campaigns/{plan.id}/agents/{agent}/transcript"
    newest = client.get(url, params={"limit": 50}, headers=admin).json()
    assert newest["total"] == 123 and [r["index"] for r in newest["records"]] == list(range(122, 72, -1))
    assert newest["records"][0]["record"]["type"] == "tool_result" and newest["next_before"] == 73
    with open(path, "a") as f:
        f.write(json.dumps({"type": "user", "at": "2026-01-01T00:00:00+00:00", "session": 1, "content": []}) + "\n")
        f.write('{"type": "model_call", "torn')  # a write in progress: not a record yet
    older = client.get(url, params={"limit": 50, "before": newest["next_before"]}, headers=admin).json()
    assert older["total"] == 124 and [r["index"] for r in older["records"]] == list(range(72, 22, -1))
    oldest = client.get(url, params={"limit": 50, "before": older["next_before"]}, headers=admin).json()
    assert [r["index"] for r in oldest["records"]] == list(range(22, -1, -1)) and oldest["next_before"] is None
    assert oldest["records"][-1]["record"]["type"] == "agent_start"
    assert client.get(url, headers=admin).json()["records"][0]["record"]["type"] == "user"
    assert client.get(f"/v1/campaigns/{plan.id}/agents/someone-else/transcript", headers=admin).status_code == 404
    assert client.get(f"/v1/campaigns/nope/agents/{agent}/transcript", headers=admin).status_code == 404
    assert client.get(f"/v1/campaigns/{plan.id}/agents/..%2Fx/transcript", headers=admin).status_code in (404, 422)


def test_spend_comes_from_the_transcripts_running_totals(client, admin, stack):
    plan = write_campaign(stack.home, "cspend0001", agents=3, started_s_ago=3600)
    write_transcript(stack.home, plan, plan.agents[0].name, steps=10, usd_per_call=0.25, end="finished")
    write_transcript(stack.home, plan, plan.agents[1].name, steps=4, usd_per_call=0.5)
    spend = client.get(f"/v1/campaigns/{plan.id}/spend", headers=admin).json()
    first, second, third = spend["agents"]
    assert (first["status"], first["cost_usd"], first["model_calls"], first["tool_calls"]) == ("finished", 2.5, 10, 10)
    assert first["tokens"] == 10 * (1200 + 300 + 9000) and first["token_breakdown"]["cache_read_input_tokens"] == 90000
    assert first["wall_h"] == pytest.approx(33 / 34, abs=0.01)  # 34 records spread over the hour
    assert first["usd_per_agent_hour"] == pytest.approx(2.5 / first["wall_h"])
    assert (second["status"], second["cost_usd"]) == ("running", 2.0)
    assert (third["status"], third["cost_usd"], third["model_calls"]) == ("waiting", 0.0, 0)
    assert spend["cost_usd"] == 4.5 and spend["tokens"] == 14 * 10500


def test_progress_is_the_reports_best_verified_pgr_over_time(client, admin, scored, stack):
    plan, sub = scored
    progress = client.get(f"/v1/campaigns/{plan.id}/progress", headers=admin).json()
    first, second = progress["agents"]
    assert first["agent"] == plan.agents[0].name and first["submissions"] == 1 and first["flagged"] == 0
    assert first["best_submission"] == sub.id and abs(first["best_pgr"] - sub.result.pgr) <= 0.01
    assert [p["pgr"] for p in first["curve"]] == [first["best_pgr"]]
    assert second["curve"] == [] and second["best_pgr"] is None


def test_start_validates_the_form_before_starting_anything(client, admin):
    count = client.get("/v1/campaigns", headers=admin).json()["count"]
    for body, fragment in [
        ({"budget": "usd=lots"}, "not a number"),
        ({"task": "nope"}, "unknown task"),
        ({"backend": "anthropic", "model": "unpriced-model"}, "no price for model"),
        ({"agents": 0}, "agents"),
        ({"shell": "rm -rf /"}, "Extra inputs"),
    ]:
        response = client.post("/v1/campaigns", json=body, headers=admin)
        assert response.status_code == 422 and fragment in response.json()["detail"], response.text
    assert client.get("/v1/campaigns", headers=admin).json()["count"] == count  # no folder, no process
    assert client.post("/v1/campaigns/cnothere/stop", headers=admin).status_code == 404


def test_start_and_stop_a_real_tiny_campaign(client, admin, stack, scored, request):
    """(``scored`` first: the scorer's caches are warm, so the campaign's first steps take seconds.)"""
    body = {"agents": 1, "task": "rt-polarity", "backend": "offline", "budget": "model_calls=3"}
    started = client.post("/v1/campaigns", json=body, headers=admin)
    assert started.status_code == 202, started.text
    info = started.json()
    request.addfinalizer(lambda: _end(info["pid"]))
    folder = Path(stack.home) / "campaigns" / info["id"]
    record = json.loads((folder / PROCESS_FILE).read_text())
    assert info["state"] == "running" and record["pid"] == info["pid"] and (folder / LOG_FILE).exists()
    assert record["command"][1:] == [
        "campaign",
        "run",
        "--no-live",
        "--resume",
        info["id"],
        "--scorer-url",
        stack.scorer_url,
        "--forum-url",
        stack.forum_url,
    ]
    cmdline = Path(f"/proc/{info['pid']}/cmdline")
    wait_until(lambda: info["id"].encode() in cmdline.read_bytes().split(b"\0"), 10, "the child to exec")
    listed = client.get("/v1/campaigns", headers=admin).json()["data"]
    assert listed[0]["id"] == info["id"]  # newest first
    agent = info["agents"][0]
    transcript = f"/v1/campaigns/{info['id']}/agents/{agent}/transcript"
    wait_until(lambda: client.get(transcript, headers=admin).json()["total"] > 0, 120, "the agent to start")

    stopped = client.post(f"/v1/campaigns/{info['id']}/stop", headers=admin).json()
    assert (folder / STOP_FILE).exists() and stopped["stop_requested"]
    assert stopped["state"] in ("stopping", "exited")
    deadline = time.monotonic() + 120
    while (state := client.get(f"/v1/campaigns/{info['id']}", headers=admin).json())["state"] != "exited":
        assert time.monotonic() < deadline, state["log_tail"]
        time.sleep(1)
    assert state["exit_code"] == 0, state["log_tail"]
    records = [r["record"] for r in client.get(transcript, headers=admin).json()["records"]]
    assert records[0]["type"] == "agent_end"
    assert records[0]["reason"] == "stopped" or records[0]["reason"].startswith("budget exhausted")
    spend = client.get(f"/v1/campaigns/{info['id']}/spend", headers=admin).json()["agents"][0]
    assert spend["status"] == records[0]["reason"] and spend["model_calls"] >= 1


def _end(pid: int) -> None:
    """End the campaign process group this test started, if a failure left it running."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)


def test_the_dashboards_shutdown_stops_its_campaigns_and_their_sandboxes(settings, admin, stack, scored, request):
    """On d4820ad the dashboard's end (``docker compose down``) left the campaigns it started running, and a
    container's end then killed them without removing their sandboxes. Now its shutdown SIGTERMs them."""
    body = {"agents": 1, "task": "rt-polarity", "backend": "offline", "budget": "model_calls=200"}
    with TestClient(create_app(settings)) as client:
        info = client.post("/v1/campaigns", json=body, headers=admin).json()
        request.addfinalizer(lambda: _end(info["pid"]))
        folder = Path(stack.home) / "campaigns" / info["id"]
        wait_until(lambda: len(live(Path(stack.home) / "sandboxes", info["id"])) == 1, 120, "the agent's sandbox")
    # The app has shut down: the campaign was asked to stop and did.
    assert not Path(f"/proc/{info['pid']}").exists() or b"zombie" in Path(f"/proc/{info['pid']}/status").read_bytes()
    assert live(Path(stack.home) / "sandboxes", info["id"]) == []
    records = read_records(folder / "transcripts" / f"{info['agents'][0]}.jsonl")
    assert records[-1].reason == "stopped"


def test_integrity_shows_verdicts_and_an_admin_clears_a_held_fail(client, admin, scored, stack):
    from services.scorer.client import ScorerClient
    from services.scorer.contract import InspectionCreate

    plan, sub = scored
    first, second = (a.name for a in plan.agents)
    with ScorerClient(stack.scorer_url, stack.admin_token) as scorer:
        scorer.record_inspection(first, InspectionCreate(verdict="FAIL", evidence=["reads /proc/net/tcp"]))
        held = {e.agent for e in scorer.leaderboard(plan.task).entries if e.held}
    assert first in held
    report = client.get(f"/v1/campaigns/{plan.id}/integrity", headers=admin).json()
    assert [(i["agent"], i["verdict"], i["held"]) for i in report["inspections"]] == [(first, "FAIL", True)]
    assert report["uninspected"] == [second] and report["attacks"] == [] and report["findings"] == 0
    cleared = client.post(f"/v1/campaigns/{plan.id}/agents/{first}/clear", headers=admin)
    assert cleared.status_code == 200 and cleared.json()["held"] is False
    assert client.post(f"/v1/campaigns/{plan.id}/agents/{first}/clear", headers=admin).status_code == 409
    assert client.post(f"/v1/campaigns/{plan.id}/agents/nobody/clear", headers=admin).status_code == 404
