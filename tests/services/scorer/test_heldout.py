"""Held-out transfer at finalise (issue 24): each leaderboard entry's method is re-scored on tasks no agent
was served, shown beside the private score and, when configured, used for the final ranking. A method
that memorised one dataset's labels gains nothing there."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from services.scorer import pipeline
from services.scorer.config import ScorerSettings, get_settings
from tests.services.scorer.redteam.harness import load_case
from tests.utils.stack import scorer_env
from w2s.scoring import draw_teachers, score_method, teacher_pool

VANILLA = "def run(ctx):\n    return ctx.train_student().predict_proba(ctx.targets)\n"
CONFIDENT = "from w2s.methods.builtin.confident import run\n"


@pytest.fixture
def client(scorer_home, monkeypatch):
    env = scorer_env(
        scorer_home,
        AAR_SCORER_TASKS="rt-polarity",
        AAR_SCORER_HELDOUT_TASKS="tweet-sentiment",
        AAR_SCORER_FINAL_RANKING="transfer",
    )
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    from services.scorer.api.app import create_app

    with TestClient(create_app()) as c:
        c.admin = {"Authorization": f"Bearer {env['AAR_ADMIN_TOKEN']}"}
        yield c
    get_settings.cache_clear()


def agent(client: TestClient, name: str) -> dict[str, str]:
    issued = client.post("/v1/admin/tokens", json={"agent": name}, headers=client.admin).json()
    return {"Authorization": f"Bearer {issued['token']}"}


def test_finalise_rescores_each_entry_on_the_heldout_task_and_ranks_by_transfer(client):
    settings = get_settings()
    agents = {name: agent(client, name) for name in ("plain", "confident")}
    for name, source in (("plain", VANILLA), ("confident", CONFIDENT)):
        body = {"task": "rt-polarity", "kind": "method", "source": source}
        sid = client.post("/v1/submissions", json=body, headers=agents[name]).json()["id"]
        assert pipeline.process(sid, settings) == "done"
    assert client.get("/v1/tasks/tweet-sentiment/inputs", headers=agents["plain"]).status_code == 404
    used = client.get("/v1/quota", headers=agents["plain"]).json()["compute_seconds_used"]

    answer = client.post("/v1/admin/tasks/rt-polarity/finalise", headers=client.admin)
    assert answer.status_code == 200 and "2 held-out re-scores queued" in answer.json()["message"]
    heldout = client.get("/v1/submissions", params={"task": "tweet-sentiment"}, headers=client.admin).json()["data"]
    assert len(heldout) == 2
    for row in heldout:
        assert pipeline.process(row["id"], settings) == "done"
        assert client.get(f"/v1/submissions/{row['id']}", headers=agents[row["agent"]]).status_code == 404
    assert client.get("/v1/submissions", headers=agents["plain"]).json()["count"] == 1  # not the re-score
    assert client.get("/v1/quota", headers=agents["plain"]).json()["compute_seconds_used"] == used  # not charged

    board = client.get("/v1/leaderboard", params={"task": "rt-polarity"}, headers=agents["plain"]).json()
    entries = board["entries"]
    assert board["finalised"] and len(entries) == 2
    for entry in entries:
        assert [t["task"] for t in entry["transfer"]] == ["tweet-sentiment"]
        assert entry["transfer_pgr"] is not None and entry["private_pgr"] is not None
    assert entries[0]["transfer_pgr"] >= entries[1]["transfer_pgr"]  # ranked by transfer, as configured
    again = client.post("/v1/admin/tasks/rt-polarity/finalise", headers=client.admin).json()
    assert "0 held-out re-scores queued" in again["message"]


def test_heldout_tasks_are_never_served_and_rankings_need_them():
    with pytest.raises(ValidationError, match="no agent is served"):
        ScorerSettings(AAR_SCORER_TASKS="rt-polarity,tweet-sentiment", AAR_SCORER_HELDOUT_TASKS="tweet-sentiment")
    with pytest.raises(ValidationError, match="needs AAR_SCORER_HELDOUT_TASKS"):
        ScorerSettings(AAR_SCORER_TASKS="rt-polarity", AAR_SCORER_FINAL_RANKING="transfer")


def test_memorised_labels_gain_on_their_task_and_nothing_on_a_heldout_one(tmp_path):
    """The nudging memoriser keeps its teacher dependence (no control sees it) and gains on rt-polarity,
    whose labels it carries; on tweet-sentiment it is vanilla again."""
    method = tmp_path / "nudge.py"
    method.write_text(load_case("memorise_labels_nudge").source)
    gains = {}
    for task in ("rt-polarity", "tweet-sentiment"):
        teachers = draw_teachers(teacher_pool(task, 4), 3, "heldout-test")
        pgr = {
            name: score_method(task, path, teachers=teachers, salt="heldout-test").splits["test_private"].pgr.mean
            for name, path in (("vanilla", "vanilla"), ("nudge", str(method)))
        }
        gains[task] = pgr["nudge"] - pgr["vanilla"]
    assert gains["rt-polarity"] > 0.05, gains
    assert abs(gains["tweet-sentiment"]) < 0.02, gains
    assert np.isfinite(list(gains.values())).all()
