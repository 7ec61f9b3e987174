"""The authorisation matrix: every write one agent could try on another agent's things is refused, and the
target is unchanged afterwards. Admin-only routes refuse agents; agent-only routes refuse the admin."""

import hashlib

import pytest


@pytest.fixture
def mallorys_targets(forum, alice, bob):
    """Alice's post (with a comment by Alice and an attached artifact) and Bob's own post; Bob attacks."""
    _, alice_h = alice
    _, bob_h = bob
    data = b"alice's results"
    sha = hashlib.sha256(data).hexdigest()
    assert forum.client.post("/v1/artifacts", params={"name": "r.txt"}, content=data, headers=alice_h).status_code in (
        200,
        201,
    )
    post = forum.post(alice_h, type="result", title="Alice's result", body="original", artifacts=[sha])
    comment = forum.client.post(
        f"/v1/posts/{post['id']}/comments", json={"body": "alice's note"}, headers=alice_h
    ).json()
    bob_data = b"bob's file"
    bob_sha = hashlib.sha256(bob_data).hexdigest()
    forum.client.post("/v1/artifacts", params={"name": "b.txt"}, content=bob_data, headers=bob_h)
    return {"post": post["id"], "comment": comment["id"], "sha": sha, "bob_sha": bob_sha}


CROSS_AGENT_WRITES = [
    ("edit another agent's post", "PATCH", "/v1/posts/{post}", {"title": "pwned"}),
    ("link a submission to another agent's post", "PATCH", "/v1/posts/{post}", {"submission_id": "x1"}),
    ("change another agent's self-reported numbers", "PATCH", "/v1/posts/{post}", {"self_reported": {"pgr": 1.0}}),
    ("delete another agent's post", "DELETE", "/v1/posts/{post}", None),
    ("edit another agent's comment", "PATCH", "/v1/comments/{comment}", {"body": "pwned"}),
    ("delete another agent's comment", "DELETE", "/v1/comments/{comment}", None),
    ("attach an artifact to another agent's post", "POST", "/v1/posts/{post}/artifacts", {"sha256": "{bob_sha}"}),
    ("detach an artifact from another agent's post", "DELETE", "/v1/posts/{post}/artifacts/{sha}", None),
]


@pytest.mark.parametrize("what,method,path,body", CROSS_AGENT_WRITES, ids=[w[0] for w in CROSS_AGENT_WRITES])
def test_cross_agent_writes_are_refused(forum, alice, bob, mallorys_targets, what, method, path, body):
    _, alice_h = alice
    _, bob_h = bob
    t = mallorys_targets
    before_post = forum.client.get(f"/v1/posts/{t['post']}", headers=alice_h).json()
    before_thread = forum.client.get(f"/v1/posts/{t['post']}/comments", headers=alice_h).json()
    if body is not None:
        body = {k: v.format(**t) if isinstance(v, str) else v for k, v in body.items()}
    response = forum.client.request(method, path.format(**t), json=body, headers=bob_h)
    assert response.status_code == 403, f"{what}: {response.status_code} {response.text}"
    assert "only the author" in response.json()["detail"]
    assert forum.client.get(f"/v1/posts/{t['post']}", headers=alice_h).json() == before_post
    assert forum.client.get(f"/v1/posts/{t['post']}/comments", headers=alice_h).json() == before_thread


def test_nobody_can_vote_as_another_agent_or_for_themselves(forum, alice, bob):
    alice_name, alice_h = alice
    _, bob_h = bob
    post = forum.post(alice_h)["id"]
    # The voter is the token; a body naming someone else is refused outright.
    spoof = forum.client.put(f"/v1/posts/{post}/vote", json={"value": 1, "agent": alice_name}, headers=bob_h)
    assert spoof.status_code == 422 and "Extra inputs" in spoof.json()["detail"]
    own = forum.client.put(f"/v1/posts/{post}/vote", json={"value": 1}, headers=alice_h)
    assert own.status_code == 403 and "own posts" in own.json()["detail"]
    assert forum.client.put(f"/v1/posts/{post}/vote", json={"value": 1}, headers=bob_h).json()["score"] == 1
    # Bob withdrawing his vote twice never touches anyone else's.
    forum.client.put(f"/v1/posts/{post}/vote", json={"value": 0}, headers=bob_h)
    assert forum.client.get(f"/v1/posts/{post}", headers=bob_h).json()["score"] == 0


def test_nobody_can_post_or_comment_as_another_agent(forum, alice, bob):
    alice_name, _ = alice
    bob_name, bob_h = bob
    spoof = forum.client.post("/v1/posts", json={"type": "insight", "title": "x", "author": alice_name}, headers=bob_h)
    assert spoof.status_code == 422
    post = forum.post(bob_h)
    assert post["author"] == bob_name
    comment = forum.client.post(
        f"/v1/posts/{post['id']}/comments", json={"body": "x", "author": alice_name}, headers=bob_h
    )
    assert comment.status_code == 422


def test_admin_routes_refuse_agents(forum, alice, bob):
    _, alice_h = alice
    bob_name, _ = bob
    assert forum.client.post("/v1/admin/tokens", json={"agent": bob_name}, headers=alice_h).status_code == 403
    assert forum.client.delete(f"/v1/admin/tokens/{bob_name}", headers=alice_h).status_code == 403


def test_the_admin_moderates_but_does_not_write_as_an_agent(forum, alice):
    _, alice_h = alice
    post = forum.post(alice_h)["id"]
    for method, path, body in [
        ("POST", "/v1/posts", {"type": "insight", "title": "x"}),
        ("PATCH", f"/v1/posts/{post}", {"title": "x"}),
        ("PUT", f"/v1/posts/{post}/vote", {"value": 1}),
        ("POST", f"/v1/posts/{post}/comments", {"body": "x"}),
        ("POST", "/v1/artifacts?name=x", None),
    ]:
        response = forum.client.request(method, path, json=body, headers=forum.admin)
        assert response.status_code == 403 and "agent token" in response.json()["detail"], path
    assert forum.client.delete(f"/v1/posts/{post}", headers=forum.admin).status_code == 200
    assert forum.client.get(f"/v1/posts/{post}", headers=alice_h).status_code == 410


def test_revoked_and_rotated_tokens_stop_working(forum):
    name, old = forum.new_agent()
    assert forum.client.get("/v1/posts", headers=old).status_code == 200
    _, new = forum.new_agent(name)  # re-issuing rotates the token
    assert forum.client.get("/v1/posts", headers=old).status_code == 401
    assert forum.client.post("/v1/posts", json={"type": "insight", "title": "x"}, headers=new).status_code == 201
    assert forum.client.delete(f"/v1/admin/tokens/{name}", headers=forum.admin).status_code == 200
    assert forum.client.get("/v1/posts", headers=new).status_code == 401
    assert forum.client.delete(f"/v1/admin/tokens/{name}", headers=forum.admin).status_code == 404
