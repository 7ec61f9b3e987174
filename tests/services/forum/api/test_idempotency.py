"""``Idempotency-Key`` on every forum create: 50 parallel identical requests make one resource, a retry
answers with it, and the same key with another request is a 409 — on both backends. On e714f4f the header
was ignored and 50 parallel posts made 50 posts (issue 16)."""

from __future__ import annotations

import hashlib
import uuid
from concurrent.futures import ThreadPoolExecutor

PARALLEL = 50


def parallel(call, n: int = PARALLEL) -> list:
    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(lambda _: call(), range(n)))


def keyed(headers: dict[str, str], key: str | None = None) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key or f"call-{uuid.uuid4().hex}"}


def test_parallel_posts_with_one_key_make_one_post(forum, alice):
    _, me = alice
    headers, title = keyed(me), f"once {uuid.uuid4().hex[:6]}"
    body = {"type": "insight", "title": title, "body": "b", "tags": ["x"]}
    answers = parallel(lambda: forum.client.post("/v1/posts", json=body, headers=headers))
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    mine = forum.client.get(f"/v1/posts?author={alice[0]}&limit=100", headers=me).json()["data"]
    assert [p["title"] for p in mine].count(title) == 1
    other = forum.client.post("/v1/posts", json={**body, "title": "another"}, headers=headers)
    assert other.status_code == 409


def test_parallel_comments_with_one_key_make_one_comment(forum, alice, bob):
    post = forum.post(alice[1])
    headers = keyed(bob[1])
    url = f"/v1/posts/{post['id']}/comments"
    answers = parallel(lambda: forum.client.post(url, json={"body": "once"}, headers=headers))
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert forum.client.get(url, headers=bob[1]).json()["count"] == 1
    assert forum.client.get(f"/v1/posts/{post['id']}", headers=bob[1]).json()["comment_count"] == 1
    assert forum.client.post(url, json={"body": "other"}, headers=headers).status_code == 409
    elsewhere = f"/v1/posts/{forum.post(alice[1])['id']}/comments"
    assert forum.client.post(elsewhere, json={"body": "once"}, headers=headers).status_code == 409


def test_parallel_uploads_with_one_key_answer_one_artifact(forum, alice):
    headers, content = keyed(alice[1]), uuid.uuid4().bytes * 10
    answers = parallel(lambda: forum.client.post("/v1/artifacts?name=a.bin", content=content, headers=headers))
    assert {a.status_code for a in answers} <= {200, 201}
    assert [a.status_code for a in answers].count(201) == 1
    assert {a.json()["sha256"] for a in answers} == {hashlib.sha256(content).hexdigest()}
    other = forum.client.post("/v1/artifacts?name=a.bin", content=b"other bytes", headers=headers)
    assert other.status_code == 409


def test_parallel_votes_with_one_key_are_one_vote(forum, alice, bob):
    post = forum.post(alice[1])
    headers = keyed(bob[1])
    url = f"/v1/posts/{post['id']}/vote"
    answers = parallel(lambda: forum.client.put(url, json={"value": 1}, headers=headers))
    assert {a.status_code for a in answers} == {200}
    assert {a.json()["score"] for a in answers} == {1}
    assert forum.client.put(url, json={"value": -1}, headers=headers).status_code == 409
    assert forum.client.get(f"/v1/posts/{post['id']}", headers=bob[1]).json()["score"] == 1


def test_keys_belong_to_one_agent_and_a_failed_create_frees_its_key(forum, alice, bob):
    key = f"shared-{uuid.uuid4().hex}"
    body = {"type": "insight", "title": "mine"}
    first = forum.client.post("/v1/posts", json=body, headers=keyed(alice[1], key))
    second = forum.client.post("/v1/posts", json=body, headers=keyed(bob[1], key))
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    failed = keyed(alice[1])
    bad = forum.client.post("/v1/posts", json={**body, "artifacts": ["0" * 64]}, headers=failed)
    assert bad.status_code == 422
    assert forum.client.post("/v1/posts", json=body, headers=failed).status_code == 201


def test_a_malformed_key_is_refused(forum, alice):
    response = forum.client.post("/v1/posts", json={"type": "insight", "title": "t"}, headers=keyed(alice[1], "a b"))
    assert response.status_code == 422


def test_a_retried_agent_tool_call_writes_once(forum, alice, bob):
    """The agent's forum tools send the tool call's id as the key: the same call run twice writes once."""
    import json

    import httpx

    from services.forum.client import ForumClient
    from workers.agent.tools.base import CallContext
    from workers.agent.tools.forum import forum_tools

    def through_test_client(request: httpx.Request) -> httpx.Response:
        answer = forum.client.request(
            request.method, str(request.url), headers=request.headers, content=request.content
        )
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    def tools(headers: dict[str, str]) -> dict:
        token = headers["Authorization"].split()[1]
        client = ForumClient("http://testserver", token, transport=httpx.MockTransport(through_test_client))
        return {t.name: t for t in forum_tools(client, sandbox=None)}

    mine, theirs = tools(alice[1]), tools(bob[1])
    post_input = mine["forum_post"].input_model(type="insight", title=f"tool {uuid.uuid4().hex[:6]}")
    call = CallContext(f"toolu_{uuid.uuid4().hex}")
    first, again = (json.loads(mine["forum_post"].fn(post_input, call)) for _ in range(2))
    assert first["id"] == again["id"]
    comment = theirs["forum_comment"].input_model(post_id=first["id"], body="hi")
    vote = theirs["forum_vote"].input_model(post_id=first["id"], value=1)
    for name, args in (("forum_comment", comment), ("forum_vote", vote)):
        call = CallContext(f"toolu_{uuid.uuid4().hex}")
        theirs[name].fn(args, call)
        theirs[name].fn(args, call)
    post = forum.client.get(f"/v1/posts/{first['id']}", headers=alice[1]).json()
    assert (post["comment_count"], post["score"]) == (1, 1)
