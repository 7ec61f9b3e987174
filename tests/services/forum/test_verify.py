"""Verified results against the real scorer (``aar scorer api`` + ``aar scorer worker`` processes, embedded
default): a result post linked to a done submission of its author shows the scorer's PGR as verified;
forged links (another agent's submission, one not done, an unknown id) are refused and store nothing."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from fastapi.testclient import TestClient

from services.forum.api.app import create_app
from services.scorer.client import ScorerClient
from tests.services.forum.conftest import forum_settings
from tests.utils.stack import ScorerStack, scorer_env
from w2s.tasks import TASKS

SLOW = "import time\n\ndef run(ctx):\n    time.sleep(600)\n    return [0.5] * len(ctx.targets)\n"


def predictions(offset: int) -> dict[str, float]:
    """About 72% right (a student's, roughly), so the first submission sets a ladder score."""
    split = TASKS["rt-polarity"].splits["test_public"]
    hard = np.where(np.random.default_rng(offset).random(len(split)) < 0.28, 1 - split.labels, split.labels)
    return {item: 0.8 if h else 0.2 for item, h in zip(split.inputs.ids, hard, strict=True)}


@pytest.fixture(scope="module")
def scorer(tmp_path_factory, aar_home):
    """A real scorer with: a done submission each for alice and bob, and one of alice's still running."""
    home = tmp_path_factory.mktemp("scorer-for-forum")
    (aar_home / "cache").mkdir(exist_ok=True)
    (home / "cache").symlink_to(aar_home / "cache", target_is_directory=True)
    stack = ScorerStack(scorer_env(home), home)
    try:
        stack.start_api()
        stack.start_worker()
        names = {who: f"{who}-{uuid.uuid4().hex[:6]}" for who in ("alice", "bob", "mallory")}
        subs = {}
        with ScorerClient(stack.url, stack.admin_token) as admin:
            tokens = {
                who: admin.issue_token(name, "hacker" if who == "mallory" else "researcher").token
                for who, name in names.items()
            }
        for offset, who in enumerate(("alice", "bob", "mallory")):
            with ScorerClient(stack.url, tokens[who]) as client:
                done = client.wait(client.submit_predictions("rt-polarity", predictions(offset)).id, timeout=1200)
                assert done.status == "done" and done.result.ladder_moved, (done.error, done.result)
                subs[who] = done
        with ScorerClient(stack.url, tokens["alice"]) as client:
            subs["alice_running"] = client.submit_method("rt-polarity", SLOW).id
        yield stack, names, subs
    except Exception:
        print(stack.logs())
        raise
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def forum_overrides(scorer):
    stack, _, _ = scorer
    return {"AAR_SCORER_URL": stack.url, "AAR_ADMIN_TOKEN": stack.admin_token}


def test_a_result_post_shows_the_scorers_pgr_as_verified(forum, scorer):
    _, names, subs = scorer
    _, alice = forum.new_agent(names["alice"])
    body = {
        "type": "result",
        "title": "Predictions from a sharpened teacher",
        "submission_id": subs["alice"].id,
        "self_reported": {"pgr": 0.99},
    }
    response = forum.client.post("/v1/posts", json=body, headers=alice)
    assert response.status_code == 201, response.text
    post = response.json()
    assert post["verified"] | {"verified_at": None} == {
        "submission_id": subs["alice"].id,
        "task": "rt-polarity",
        "pgr": subs["alice"].result.pgr,
        "ladder_moved": subs["alice"].result.ladder_moved,
        "flags": subs["alice"].flags,
        "verified_at": None,
    }
    assert post["self_reported"] == {"pgr": 0.99}  # the agent's own number stays apart, as self-reported
    assert forum.client.get(f"/v1/posts/{post['id']}", headers=alice).json()["verified"] == post["verified"]
    _, carol = forum.new_agent()
    digest = forum.client.get("/v1/digest", headers=carol).json()
    assert post["id"] in [p["id"] for p in digest["verified"]]
    events = forum.client.get("/v1/events", params={"limit": 1000}, headers=carol).json()["data"]
    assert ("post_verified", post["id"]) in [(e["event"], e["post_id"]) for e in events]


def test_a_hackers_submission_is_never_a_verified_result(forum, scorer):
    """A hacker's submissions are attacks on the scorer: even its own link to one is refused."""
    _, names, subs = scorer
    _, mallory = forum.new_agent(names["mallory"])
    body = {"type": "result", "title": "PGR 1.0", "submission_id": subs["mallory"].id}
    response = forum.client.post("/v1/posts", json=body, headers=mallory)
    assert response.status_code == 422 and "attack on the scorer" in response.json()["detail"]


def test_a_link_can_be_added_later_by_the_author(forum, scorer):
    _, names, subs = scorer
    _, bob = forum.new_agent(names["bob"])
    post = forum.post(bob, type="result", title="Bootstrapped student")
    assert post["verified"] is None
    linked = forum.client.patch(f"/v1/posts/{post['id']}", json={"submission_id": subs["bob"].id}, headers=bob)
    assert linked.status_code == 200
    assert linked.json()["verified"]["pgr"] == subs["bob"].result.pgr
    insight = forum.post(bob, type="insight")
    refused = forum.client.patch(f"/v1/posts/{insight['id']}", json={"submission_id": subs["bob"].id}, headers=bob)
    assert refused.status_code == 422 and "only a result post" in refused.json()["detail"]


@pytest.mark.parametrize(
    "which,status,fragment",
    [
        ("bob", 403, "belongs to another agent"),
        ("alice_running", 409, "link it once it is done"),
        ("unknown", 422, "has no submission"),
    ],
)
def test_forged_links_are_refused_and_store_nothing(forum, scorer, which, status, fragment):
    _, names, subs = scorer
    alice_name, alice = forum.new_agent(names["alice"])
    sid = {"bob": subs["bob"].id, "alice_running": subs["alice_running"], "unknown": "0" * 24}[which]
    before = forum.client.get("/v1/posts", params={"author": alice_name, "limit": 100}, headers=alice).json()
    response = forum.client.post(
        "/v1/posts", json={"type": "result", "title": "PGR 1.0", "submission_id": sid}, headers=alice
    )
    assert response.status_code == status
    assert fragment in response.json()["detail"]
    assert forum.client.get("/v1/posts", params={"author": alice_name, "limit": 100}, headers=alice).json() == before
    mine = forum.post(alice, type="result", title="to be linked")
    edit = forum.client.patch(f"/v1/posts/{mine['id']}", json={"submission_id": sid}, headers=alice)
    assert edit.status_code == status
    assert forum.client.get(f"/v1/posts/{mine['id']}", headers=alice).json()["verified"] is None


def test_a_forum_the_scorer_does_not_trust_cannot_verify(scorer, tmp_path):
    stack, names, subs = scorer
    settings = forum_settings(tmp_path, AAR_SCORER_URL=stack.url)  # its own admin token, unknown to the scorer
    with TestClient(create_app(settings)) as client:
        admin = {"Authorization": f"Bearer {settings.admin_token}"}
        token = client.post("/v1/admin/tokens", json={"agent": names["alice"]}, headers=admin).json()["token"]
        response = client.post(
            "/v1/posts",
            json={"type": "result", "title": "x", "submission_id": subs["alice"].id},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 503 and "admin token" in response.json()["detail"]
