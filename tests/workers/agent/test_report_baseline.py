"""The campaign report's search-baseline line: the curve every report stores, and how a model campaign finds
and compares with a stored offline campaign on the same task."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from workers.agent.budget import Limits
from workers.agent.campaign.plan import AgentPlan, CampaignPlan
from workers.agent.campaign.report import (
    AgentSummary,
    CurvePoint,
    _against_search,
    _write_curve,
    campaign_curve,
    find_baseline,
)

START = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def plan(campaign_id: str, backend: str, task: str = "rt-polarity", created: float = 0.0, **extra) -> CampaignPlan:
    return CampaignPlan(
        id=campaign_id,
        task=task,
        agents=[AgentPlan(name=f"{campaign_id}-r1", direction="d", seed=0)],
        backend=backend,
        model="m",
        agent_limits=Limits(),
        campaign_limits=Limits(),
        created_at=created,
        **extra,
    )


def stored(root, p: CampaignPlan, scores: list[float]) -> None:
    folder = root / p.id
    p.save(folder)
    (folder / "report").mkdir()
    points = [CurvePoint(float(i), i + 1, max(scores[: i + 1]), None) for i in range(len(scores))]
    _write_curve(folder / "report" / "curve.json", p, points)


def test_the_campaign_curve_is_the_best_so_far_over_every_agent_in_time_order():
    a, b = AgentSummary("a", "d"), AgentSummary("b", "d")
    a.scored = [(START + timedelta(minutes=3), 0.5, 0.4), (START + timedelta(minutes=9), 0.7, 0.6)]
    b.scored = [(START + timedelta(minutes=5), 0.6, 0.65), (START + timedelta(minutes=7), 0.55, 0.5)]
    curve = campaign_curve([a, b], START)
    assert [p.submissions for p in curve] == [1, 2, 3, 4]
    assert [p.best_pgr for p in curve] == [0.5, 0.6, 0.6, 0.7]
    assert [p.best_private_pgr for p in curve] == [0.4, 0.65, 0.65, 0.6]
    assert [p.minutes for p in curve] == [3.0, 5.0, 7.0, 9.0]


def test_a_model_campaign_compares_with_the_newest_offline_campaign_on_its_task(tmp_path):
    stored(tmp_path, plan("c-old", "offline", created=1), [0.5, 0.55])
    stored(tmp_path, plan("c-new", "offline", created=2), [0.6, 0.62, 0.7])
    stored(tmp_path, plan("c-other-task", "offline", task="tweet-sentiment", created=3), [0.9])
    stored(tmp_path, plan("c-claude-old", "anthropic", created=4), [0.95])
    mine = plan("c-claude", "anthropic", created=5)
    mine.save(tmp_path / mine.id)
    baseline = find_baseline(tmp_path / mine.id, mine)
    assert baseline is not None and baseline.campaign == "c-new"
    assert baseline.at(2).best_pgr == 0.62 and baseline.at(10).best_pgr == 0.7 and baseline.at(0) is None

    named = plan("c-claude2", "anthropic", created=6, baseline="c-old")
    assert find_baseline(tmp_path / named.id, named).campaign == "c-old"
    assert find_baseline(tmp_path / "c-new", plan("c-new", "offline", created=2)) is None


def test_no_baseline_and_the_verdict_lines(tmp_path):
    mine = plan("c-claude", "anthropic")
    mine.save(tmp_path / mine.id)
    assert find_baseline(tmp_path / mine.id, mine) is None
    ours = [CurvePoint(1.0, 1, 0.6, 0.5), CurvePoint(2.0, 2, 0.8, 0.7)]
    text = "\n".join(_against_search(mine, ours, None))
    assert "No search baseline on `rt-polarity` yet" in text and "0.800" in text

    stored(tmp_path, plan("c-search", "offline", created=1), [0.5, 0.7, 0.9])
    text = "\n".join(_against_search(mine, ours, find_baseline(tmp_path / mine.id, mine)))
    assert "**The agents beat search** at the same budget: +0.100" in text  # 0.8 against 0.7 at 2 submissions
    assert "0.900 after all 3" in text
    worse = [CurvePoint(1.0, 1, 0.4, 0.3)]
    text = "\n".join(_against_search(mine, worse, find_baseline(tmp_path / mine.id, mine)))
    assert "**The agents did not beat search**" in text and "-0.100" in text


def test_the_stored_curve_is_plain_json(tmp_path):
    p = plan("c1", "offline")
    _write_curve(tmp_path / "curve.json", p, [CurvePoint(1.5, 1, 0.6, None)])
    data = json.loads((tmp_path / "curve.json").read_text())
    assert data["campaign"] == "c1" and data["backend"] == "offline"
    assert data["points"] == [{"minutes": 1.5, "submissions": 1, "best_pgr": 0.6, "best_private_pgr": None}]
