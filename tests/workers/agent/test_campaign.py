"""End to end: a 3-agent offline campaign on the embedded default (real scorer API and worker, real forum,
bubblewrap sandboxes), stopped part-way and resumed from its transcripts and workspaces."""

from __future__ import annotations

import json
import tarfile
import threading

from services.common.localstack import wait_until
from services.common.tokens import admin_token
from services.forum.client import ForumClient
from services.scorer.client import ScorerClient
from workers.agent.budget import Limits
from workers.agent.campaign.plan import CampaignPlan, new_campaign_id, plan_agents
from workers.agent.campaign.runner import Campaign
from workers.agent.config import AgentSettings
from workers.agent.prompts import load_directions
from workers.agent.records import AgentEnd, AgentStart, Record, ToolResult
from workers.agent.transcript import read_records

# Directions whose preferred methods train quickly (confident filtering, logconf, hard labels).
DIRECTIONS = [
    "Data reweighting: trust some labels more.",
    "Distillation tricks: change the loss.",
    "Simplicity bias: prefer simple patterns.",
]


def transcript_events(folder, name: str) -> list[Record]:
    return read_records(folder / "transcripts" / f"{name}.jsonl")


def test_offline_campaign_runs_stops_and_resumes_to_verified_results(campaign_home, tmp_path):
    directions = tmp_path / "directions.txt"
    directions.write_text("\n".join(DIRECTIONS))
    campaign_id = new_campaign_id()
    plan = CampaignPlan(
        id=campaign_id,
        task="rt-polarity",
        agents=plan_agents(campaign_id, load_directions(str(directions), 3)),
        backend="offline",
        model="offline-baseline",
        agent_limits=Limits(),
        campaign_limits=Limits(),
        offline_experiments=2,
    )
    folder = campaign_home / "campaigns" / campaign_id
    names = [a.name for a in plan.agents]

    # First run: stop it once the first result reaches the forum.
    first = Campaign(folder, plan, AgentSettings(), campaign_home)
    outcome: dict = {}
    errors: list[BaseException] = []

    def run_first() -> None:
        try:
            outcome.update(first.run(live=False))
        except BaseException as exc:
            errors.append(exc)
            raise

    runner = threading.Thread(target=run_first)
    runner.start()

    def someone_posted() -> bool:
        if not runner.is_alive():
            raise AssertionError(f"the campaign ended before anyone posted: {outcome or errors}")
        return any(
            isinstance(r, ToolResult) and r.name == "forum_post" and not r.is_error
            for n in names
            for r in transcript_events(folder, n)
        )

    try:
        wait_until(someone_posted, 1500, "a first forum post")
    finally:
        (folder / "STOP").touch()
        runner.join(900)
    assert not runner.is_alive()
    assert "stopped" in outcome.values(), outcome
    assert (folder / "report" / "report.md").exists()

    # Resume: every stopped agent carries on from its transcript and its restored workspace.
    second = Campaign(folder, CampaignPlan.load(folder), AgentSettings(), campaign_home)
    assert set(second.run(live=False).values()) == {"finished"}

    for name in names:
        records = transcript_events(folder, name)
        starts = [r for r in records if isinstance(r, AgentStart)]
        assert isinstance(records[-1], AgentEnd) and records[-1].reason == "finished"
        if len(starts) > 1:
            assert starts[-1].resumed is True
        with tarfile.open(folder / "agents" / f"{name}.workspace.tar.gz") as snapshot:
            notebook = snapshot.extractfile("./NOTEBOOK.md").read().decode()
        assert notebook.count("config ") == 2, notebook  # two experiments, across the stop and the resume
        assert notebook == (folder / "agents" / f"{name}.notebook.md").read_text()
        assert all(r.content != "" for r in records if isinstance(r, ToolResult))

    report = (folder / "report" / "report.md").read_text()
    for name in names:
        assert name in report
    for png in ("best_pgr.png", "cost.png", "forum.png"):
        assert (folder / "report" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "baseline policy" in report
    assert "It is itself a search baseline" in report
    curve = json.loads((folder / "report" / "curve.json").read_text())
    assert curve["campaign"] == folder.name and curve["points"], curve
    _check_services(campaign_home, names)


def _check_services(home, names):
    """Every agent has two server-scored submissions; result posts show verified scores."""
    from services.common.localstack import LocalStack

    with LocalStack(home) as stack:
        stack.start_scorer_api()
        stack.start_forum_api()
        token = admin_token(home, None)
        with ScorerClient(stack.scorer_url, token) as scorer, ForumClient(stack.forum_url, token) as forum:
            for name in names:
                subs = scorer.submissions(task="rt-polarity", agent=name).data
                assert len(subs) == 2 and all(s.status == "done" for s in subs), subs
            shared = [p for p in forum.iter_posts(tag="baseline-policy") if p.author in names]
            claims = [p for p in shared if p.type == "hypothesis"]
            assert len(claims) == 6 and all("claim" in p.tags for p in claims)  # each claimed before it ran
            posts = [p for p in shared if p.type != "hypothesis"]
            assert len(posts) == 6
            configs = {t for p in posts for t in p.tags if t.startswith("cfg.")}
            assert len(configs) == 6  # nobody repeated a configuration someone had already posted
            results = [p for p in posts if p.type == "result"]
            assert results and all(p.verified is not None and p.verified.pgr is not None for p in results)
            assert all(p.verified is None for p in posts if p.type == "negative-result")
            assert all(p.title.startswith("[baseline policy]") for p in posts)
