"""The dashboard's page, auth, scores and forum browser, in process against real scorer and forum processes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from services.common.localstack import free_port
from services.dashboard.api.app import create_app
from services.scorer.client import ScorerClient
from tests.services.dashboard.factories import predictions

ROUTES = [
    ("GET", "/v1/tasks"),
    ("GET", "/v1/leaderboard?task=rt-polarity"),
    ("GET", "/v1/live?task=rt-polarity"),
    ("GET", "/v1/submissions"),
    ("GET", "/v1/forum/posts"),
    ("GET", "/v1/forum/search?q=x"),
    ("GET", "/v1/campaigns"),
    ("POST", "/v1/campaigns"),
    ("POST", "/v1/campaigns/c1/stop"),
    ("GET", "/v1/campaigns/c1/agents/c1-r1/transcript"),
]


def test_page_is_self_contained_and_ops_routes_answer(client):
    page = client.get("/")
    assert page.status_code == 200 and "<title>AAR dashboard</title>" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "http://" not in page.text and "https://" not in page.text  # nothing is fetched from elsewhere
    for asset in ("/static/app.js", "/static/app.css"):
        response = client.get(asset)
        assert response.status_code == 200 and "http://" not in response.text.replace("http://www.w3.org/2000/svg", "")
    assert client.get("/healthz").json() == {"status": "ok"}
    assert "http_requests_total" in client.get("/metrics").text
    assert "/v1/live" in client.get("/openapi.json").json()["paths"]
    assert client.get("/docs").status_code == 200


def test_only_the_admin_token_opens_the_api(client, stack):
    with ScorerClient(stack.scorer_url, stack.admin_token) as scorer:
        agent_token = f"Bearer {scorer.issue_token('dash-agent').token}"
    for method, path in ROUTES:
        missing = client.request(method, path)
        assert missing.status_code == 401 and missing.json() == {"detail": "missing bearer token"}, path
        for header in (agent_token, "Bearer not-a-token"):
            refused = client.request(method, path, headers={"Authorization": header})
            assert refused.status_code == 401, (path, refused.text)
            assert refused.json()["detail"] == "the dashboard accepts only the admin token"


def test_leaderboard_shows_the_scorers_admin_view(client, admin, scored, stack):
    plan, sub = scored
    board = client.get("/v1/leaderboard", params={"task": "rt-polarity"}, headers=admin).json()
    row = next(r for r in board["rows"] if r["agent"] == plan.agents[0].name)
    with ScorerClient(stack.scorer_url, stack.admin_token) as scorer:
        full = scorer.submission(sub.id).full_result
    assert row["submission_id"] == sub.id and row["flags"] == []
    assert row["pgr"] == sub.result.pgr  # the ladder score agents see, rounded
    assert row["pgr_full"] == full["report"]["splits"]["test_public"]["pgr"]["mean"]
    recent = client.get("/v1/submissions", params={"agent": plan.agents[0].name}, headers=admin).json()
    assert [s["id"] for s in recent] == [sub.id] and recent[0]["status"] == "done"


def test_live_version_changes_when_a_submission_arrives(client, admin, scored, new_agent):
    first = client.get("/v1/live", params={"task": "rt-polarity"}, headers=admin).json()
    assert client.get("/v1/live", params={"task": "rt-polarity"}, headers=admin).json()["version"] == first["version"]
    scorer, _ = new_agent()
    sid = scorer.submit_predictions("rt-polarity", predictions(0.7, "live")).id
    after = client.get("/v1/live", params={"task": "rt-polarity"}, headers=admin).json()
    assert after["version"] != first["version"]
    assert after["recent"][0]["id"] == sid
    assert scorer.wait(sid, timeout=300).status == "done"


def test_upstream_answers_pass_through_and_outages_are_502(client, admin, settings):
    unknown = client.get("/v1/leaderboard", params={"task": "no-such-task"}, headers=admin)
    assert unknown.status_code == 404 and "unknown task" in unknown.json()["detail"]
    assert client.get("/v1/forum/posts/999999", headers=admin).status_code == 404
    down = settings.model_copy(update={"scorer_url": f"http://127.0.0.1:{free_port()}"})
    with TestClient(create_app(down)) as c:
        response = c.get("/v1/tasks", headers=admin)
    assert response.status_code == 502 and "did not answer" in response.json()["detail"]


def test_a_wrong_admin_token_upstream_is_a_502_not_a_401(settings):
    wrong = settings.model_copy(update={"admin_token": "x" * 32})
    with TestClient(create_app(wrong)) as c:
        response = c.get("/v1/tasks", headers={"Authorization": "Bearer " + "x" * 32})
    assert response.status_code == 502 and "refused the dashboard's admin token" in response.json()["detail"]


def test_forum_browser_lists_opens_and_searches(client, admin, new_agent, scored):
    plan, sub = scored
    _, forum = new_agent(plan.agents[0].name)
    result = forum.create_post(
        "result",
        "Confidence-filtered weak labels",
        "Kept the 70% most confident labels.",
        tags=["filtering"],
        submission_id=sub.id,
    )
    question = forum.create_post("question", "Does bootstrapping help on rt-polarity?", "Anyone tried it?")
    top = forum.comment(question.id, "Not yet.")
    forum.comment(question.id, "Same here.", parent_id=top.id)

    page = client.get("/v1/forum/posts", params={"limit": 1}, headers=admin).json()
    assert page["data"][0]["id"] == question.id and page["next_cursor"]
    following = client.get("/v1/forum/posts", params={"cursor": page["next_cursor"]}, headers=admin).json()
    assert result.id in [p["id"] for p in following["data"]]
    thread = client.get(f"/v1/forum/posts/{question.id}", headers=admin).json()
    assert [(c["body"], c["depth"]) for c in thread["comments"]] == [("Not yet.", 0), ("Same here.", 1)]
    verified = client.get(f"/v1/forum/posts/{result.id}", headers=admin).json()["post"]["verified"]
    assert verified["submission_id"] == sub.id and verified["pgr"] == sub.result.pgr
    hits = client.get("/v1/forum/search", params={"q": "confident labels"}, headers=admin).json()["hits"]
    assert result.id in [h["post"]["id"] for h in hits]


@pytest.mark.parametrize("params", [{"task": ""}, {"task": "a b"}, {}])
def test_bad_queries_get_one_line_422s(client, admin, params):
    response = client.get("/v1/live", params=params, headers=admin)
    assert response.status_code == 422 and isinstance(response.json()["detail"], str)
