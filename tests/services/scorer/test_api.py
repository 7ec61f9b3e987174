"""API behaviour on the embedded default (SQLite), in process. The worker step is called directly."""

import numpy as np
import pytest

from services.scorer import pipeline
from services.scorer.config import get_settings
from tests.utils.stack import wait_until
from w2s.tasks import TASKS

VANILLA = "def run(ctx):\n    return ctx.train_student().predict_proba(ctx.targets)\n"
CONSTANT = "def run(ctx):\n    return [0.9] * len(ctx.targets)\n"


def public_ids():
    return TASKS["rt-polarity"].splits["test_public"].inputs.ids


def predictions(flip: int = 0) -> dict[str, float]:
    """A fixed prediction set about 72% right (a student's, roughly); ``flip`` inverts the first ``flip``
    items (a probing sequence)."""
    labels = TASKS["rt-polarity"].splits["test_public"].labels
    hard = np.where(np.random.default_rng(1).random(len(labels)) < 0.28, 1 - labels, labels)
    hard[:flip] = 1 - hard[:flip]
    return {item: 0.8 if h else 0.2 for item, h in zip(public_ids(), hard, strict=True)}


def submit(client, headers, **body):
    return client.post("/v1/submissions", json={"task": "rt-polarity", **body}, headers=headers)


def test_every_route_needs_a_valid_token(client):
    for method, path in [
        ("GET", "/v1/tasks"),
        ("GET", "/v1/quota"),
        ("GET", "/v1/leaderboard?task=rt-polarity"),
        ("POST", "/v1/submissions"),
        ("GET", "/v1/admin/audit"),
    ]:
        assert client.request(method, path).status_code == 401
        assert client.request(method, path, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/healthz").status_code == 200
    assert "http_requests_total" in client.get("/metrics").text


def test_admin_routes_refuse_agents_and_agent_routes_refuse_the_admin(client, admin, new_agent):
    _, agent = new_agent()
    assert client.post("/v1/admin/tokens", json={"agent": "x"}, headers=agent).status_code == 403
    assert client.get("/v1/admin/audit", headers=agent).status_code == 403
    assert client.post("/v1/admin/tasks/rt-polarity/finalise", headers=agent).status_code == 403
    assert submit(client, admin, kind="method", source=VANILLA).status_code == 403


def test_revoked_tokens_stop_working(client, admin, new_agent):
    name, agent = new_agent()
    assert client.get("/v1/quota", headers=agent).status_code == 200
    assert client.delete(f"/v1/admin/tokens/{name}", headers=admin).status_code == 200
    assert client.get("/v1/quota", headers=agent).status_code == 401


def test_submissions_are_private_to_their_owner(client, admin, new_agent):
    _, alice = new_agent()
    _, bob = new_agent()
    sid = submit(client, alice, kind="method", source=VANILLA).json()["id"]
    assert client.get(f"/v1/submissions/{sid}", headers=alice).status_code == 200
    assert client.get(f"/v1/submissions/{sid}", headers=bob).status_code == 403
    assert client.get(f"/v1/submissions/{sid}", headers=admin).status_code == 200
    assert client.get("/v1/submissions/does-not-exist", headers=alice).status_code == 404
    assert [s["id"] for s in client.get("/v1/submissions", headers=bob).json()["data"]] == []


@pytest.mark.parametrize(
    "body,fragment",
    [
        ({"kind": "predictions", "predictions": {"x": 0.5}}, "must cover exactly"),
        ({"kind": "predictions", "predictions": {"x": 1.5}}, "less than or equal to 1"),
        ({"kind": "method", "source": ""}, "at least 1 character"),
        ({"kind": "weights", "source": "x"}, "kind"),
        ({"kind": "method", "source": "x", "seed": 3}, "Extra inputs are not permitted"),
    ],
)
def test_bad_bodies_get_clear_422s(client, new_agent, body, fragment):
    _, agent = new_agent()
    response = submit(client, agent, **body)
    assert response.status_code == 422
    assert fragment in response.json()["detail"]


def test_unknown_task_is_404(client, new_agent):
    _, agent = new_agent()
    response = client.post("/v1/submissions", json={"task": "nope", "kind": "method", "source": VANILLA}, headers=agent)
    assert response.status_code == 404 and "unknown task" in response.json()["detail"]


@pytest.mark.parametrize("name", ["jsonl:/etc", "jsonl:/etc/passwd", "rt-polarity:finetune", "test-rt-polarity-0"])
def test_a_client_cannot_name_a_task_the_operator_did_not_configure(client, new_agent, name):
    """e714f4f: any token could make the scorer read a host path (`jsonl:<path>`) and got its parse errors."""
    _, agent = new_agent()
    for response in (
        client.post("/v1/submissions", json={"task": name, "kind": "method", "source": VANILLA}, headers=agent),
        client.get(f"/v1/tasks/{name}/inputs", headers=agent),
        client.get("/v1/leaderboard", params={"task": name}, headers=agent),
    ):
        assert response.status_code == 404
        assert "/etc" not in response.text and "passwd" not in response.text.replace(name, "")
    assert [t["name"] for t in client.get("/v1/tasks", headers=agent).json()] == ["rt-polarity", "tweet-sentiment"]


def test_idempotency_key_returns_the_first_submission(client, new_agent):
    _, agent = new_agent()
    headers = {**agent, "Idempotency-Key": "k-1"}
    first = submit(client, headers, kind="method", source=VANILLA)
    again = submit(client, headers, kind="method", source=VANILLA)
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert submit(client, headers, kind="method", source=CONSTANT).status_code == 409
    assert client.get("/v1/quota", headers=agent).json()["submissions_used"] == 1


def test_quota_refuses_with_429_and_reset_time(client, new_agent):
    _, agent = new_agent()
    for _ in range(5):
        assert submit(client, agent, kind="method", source=VANILLA).status_code == 202
    refused = submit(client, agent, kind="method", source=VANILLA)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "resets at" in refused.json()["detail"]
    assert client.get("/v1/quota", headers=agent).json()["submissions_left"] == 0


def test_task_inputs_carry_weak_labels_but_no_labels(client, new_agent):
    _, agent = new_agent()
    prepared = client.app.state.runtime.catalogue.prepared
    prepared._ready.clear()  # cold in this process: the first answer is 503 with Retry-After
    first = client.get("/v1/tasks/rt-polarity/inputs", headers=agent)
    assert first.status_code == 503 and int(first.headers["Retry-After"]) > 0
    response = wait_until(
        lambda: (r := client.get("/v1/tasks/rt-polarity/inputs", headers=agent)).status_code == 200 and r, 900, "inputs"
    )
    data = response.json()
    task = TASKS["rt-polarity"]
    assert len(data["transfer"]) == task.sizes["train_unlabel"]
    assert [i["id"] for i in data["test_public"]] == list(public_ids())
    assert set(data["transfer"][0]) == {"id", "text", "weak_label"}
    assert set(data["test_public"][0]) == {"id", "text"}
    described = client.get("/v1/tasks/rt-polarity", headers=agent).json()
    assert "test_private" not in described["sizes"] and "train_label" not in described["sizes"]


def test_predictions_are_scored_laddered_and_probing_is_flagged(client, admin, new_agent):
    _, agent = new_agent()
    settings = get_settings()
    ids = []
    for flip in (0, 1, 2):
        sid = submit(client, agent, kind="predictions", predictions=predictions(flip)).json()["id"]
        assert pipeline.process(sid, settings) == "done"
        ids.append(sid)
    first, second, third = (client.get(f"/v1/submissions/{s}", headers=agent).json() for s in ids)
    assert first["status"] == "done" and first["flags"] == []
    assert "probing" in second["flags"] and "probing" in third["flags"]
    # The agent sees a rounded ladder score and no label-derived detail; a flagged one shows no score.
    assert first["result"]["pgr"] == round(first["result"]["pgr"], 2) and first["result"]["ladder_moved"]
    assert "full_result" not in first and "label" not in str(first["result"]) and "per_seed" not in first["result"]
    assert second["result"]["pgr"] is None and not second["result"]["ladder_moved"]
    full = client.get(f"/v1/submissions/{ids[1]}", headers=admin).json()
    assert full["full_result"]["evidence"]["probing"]["like"] == ids[0]
    assert full["full_result"]["evidence"]["probing"]["changed_items"] == 1
    events = client.get("/v1/admin/audit", params={"submission_id": ids[1]}, headers=admin).json()["data"]
    assert "flag:probing" in {e["event"] for e in events}
    # Prediction submissions run no control and have no private score: they never rank.
    board = client.get("/v1/leaderboard", params={"task": "rt-polarity"}, headers=agent).json()
    assert all(e["submission_id"] not in ids for e in board["entries"])


def test_cancel_a_queued_submission(client, admin, new_agent):
    _, agent = new_agent()
    sid = submit(client, agent, kind="method", source=VANILLA).json()["id"]
    assert client.post(f"/v1/admin/submissions/{sid}/cancel", headers=admin).status_code == 200
    assert client.get(f"/v1/submissions/{sid}", headers=agent).json()["status"] == "cancelled"
    assert pipeline.process(sid, get_settings()) == "skipped"
    assert client.post(f"/v1/admin/submissions/{sid}/cancel", headers=admin).status_code == 409


def test_leaderboard_hides_private_scores_until_finalised(client, admin, new_agent):
    name, agent = new_agent()
    sid = submit(client, agent, kind="method", source=VANILLA).json()["id"]
    assert pipeline.process(sid, get_settings()) == "done"
    board = client.get("/v1/leaderboard", params={"task": "rt-polarity"}, headers=agent).json()
    entry = next(e for e in board["entries"] if e["agent"] == name)
    assert entry["private_pgr"] is None and entry["pgr"] is not None
    assert entry["flags"] == []
    admin_entry = next(
        e
        for e in client.get("/v1/leaderboard", params={"task": "rt-polarity"}, headers=admin).json()["entries"]
        if e["agent"] == name
    )
    assert admin_entry["private_pgr"] is not None
    assert client.post("/v1/admin/tasks/rt-polarity/finalise", headers=admin).status_code == 200
    entry = next(
        e
        for e in client.get("/v1/leaderboard", params={"task": "rt-polarity"}, headers=agent).json()["entries"]
        if e["agent"] == name
    )
    assert entry["private_pgr"] == admin_entry["private_pgr"]


def test_a_failed_run_still_carries_the_flags_the_kernel_saw(client, admin, new_agent):
    """``jail_violation`` comes from the calls the kernel refused, counted outside the method; what the
    method's own interpreter reports (an open of a label path) is advisory evidence for admins only."""
    _, agent = new_agent()
    source = (
        "import socket\n"
        "def run(ctx):\n    try:\n        open('/root/.aar/scorer.db', 'rb')\n    except OSError:\n        pass\n"
        "    try:\n        socket.socket(socket.AF_INET).connect(('127.0.0.1', 5432))\n    except OSError:\n"
        "        pass\n    raise RuntimeError('found nothing')\n"
    )
    sid = submit(client, agent, kind="method", source=source).json()["id"]
    assert pipeline.process(sid, get_settings()) == "failed"
    seen = client.get(f"/v1/submissions/{sid}", headers=agent).json()
    assert seen["status"] == "failed" and seen["flags"] == ["jail_violation"]
    assert seen["error"].startswith("method raised RuntimeError: found nothing") and len(seen["error"]) <= 300
    full = client.get(f"/v1/submissions/{sid}", headers=admin).json()["full_result"]
    assert full["evidence"]["jail_violation"] == {"refused": {"socket(AF_INET)": 1}}
    assert any(e.get("event") == "hidden_path" for e in full["advisory"]["kept"])
    events = {
        e["event"] for e in client.get("/v1/admin/audit", params={"submission_id": sid}, headers=admin).json()["data"]
    }
    assert "flag:jail_violation" in events


def test_a_waiting_agent_sees_its_place_in_the_queue_and_the_run_in_progress(client, new_agent):
    from services.common.db import session_scope
    from services.scorer.db import crud

    _, agent = new_agent()
    ids = [submit(client, agent, kind="method", source=VANILLA).json()["id"] for _ in range(2)]
    places = [client.get(f"/v1/submissions/{sid}", headers=agent).json()["progress"]["queue_position"] for sid in ids]
    assert places[1] == places[0] + 1
    listed = {s["id"]: s["progress"] for s in client.get("/v1/submissions", headers=agent).json()["data"]}
    assert [listed[sid]["queue_position"] for sid in ids] == places
    settings = get_settings()
    with session_scope(settings.db_url) as db:
        assert crud.claim(session=db, submission_id=ids[0], max_attempts=settings.max_attempts)
        crud.set_progress(session=db, submission_id=ids[0], run=2, runs=5)
    running = client.get(f"/v1/submissions/{ids[0]}", headers=agent).json()
    assert running["status"] == "running" and running["progress"] == {"queue_position": None, "run": 2, "runs": 5}
    assert client.get(f"/v1/submissions/{ids[1]}", headers=agent).json()["progress"]["queue_position"] == places[0]
