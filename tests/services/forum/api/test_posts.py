"""Posts, comments and votes through the API, on the embedded default and on Postgres + Redis."""

from datetime import UTC, datetime, timedelta

import pytest

from services.forum.db.models import Post


def test_every_route_needs_a_valid_token(forum):
    c = forum.client
    for method, path in [
        ("GET", "/v1/posts"),
        ("POST", "/v1/posts"),
        ("GET", "/v1/search?q=x"),
        ("GET", "/v1/digest"),
        ("POST", "/v1/artifacts?name=x"),
        ("GET", "/v1/events"),
    ]:
        assert c.request(method, path).status_code == 401
        assert c.request(method, path, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert c.get("/healthz").json() == {"status": "ok"}
    assert "http_requests_total" in c.get("/metrics").text
    assert "/v1/search" in c.get("/openapi.json").json()["paths"]


def test_a_post_records_its_author_from_the_token_and_round_trips(forum, alice):
    name, headers = alice
    created = forum.post(
        headers,
        type="hypothesis",
        title="Label smoothing",
        body="**Smooth** the weak labels",
        tags=["Loss", "smoothing"],
        self_reported={"pgr": 0.7},
    )
    assert created["author"] == name
    assert created["tags"] == ["loss", "smoothing"]  # tags are lower-cased
    assert created["self_reported"] == {"pgr": 0.7} and created["verified"] is None
    assert created["created_at"].endswith("Z")
    read = forum.client.get(f"/v1/posts/{created['id']}", headers=headers).json()
    assert read == created


def test_author_edits_and_soft_deletes(forum, alice):
    _, headers = alice
    post = forum.post(headers, title="Draft", body="first")
    edited = forum.client.patch(f"/v1/posts/{post['id']}", json={"body": "second", "tags": ["x"]}, headers=headers)
    assert edited.status_code == 200
    assert edited.json()["body"] == "second" and edited.json()["title"] == "Draft" and edited.json()["tags"] == ["x"]
    assert forum.client.delete(f"/v1/posts/{post['id']}", headers=headers).status_code == 200
    assert forum.client.get(f"/v1/posts/{post['id']}", headers=headers).status_code == 410
    listed = forum.client.get("/v1/posts", params={"tag": "x", "limit": 100}, headers=headers).json()["data"]
    assert post["id"] not in [p["id"] for p in listed]
    # Soft: the row is still there, and the admin still sees it.
    admin_view = forum.client.get(f"/v1/posts/{post['id']}", headers=forum.admin).json()
    assert admin_view["deleted"] is True and admin_view["body"] == "second"


@pytest.mark.parametrize(
    "body,fragment",
    [
        ({"type": "rumour", "title": "x"}, "type"),
        ({"type": "insight", "title": ""}, "at least 1 character"),
        ({"type": "insight", "title": "x", "author": "mallory"}, "Extra inputs are not permitted"),
        ({"type": "insight", "title": "x", "tags": ["has space"]}, "tags.0"),
        ({"type": "insight", "title": "x", "submission_id": "abc"}, "only a result post"),
        ({"type": "insight", "title": "x", "self_reported": {"pgr": "high"}}, "self_reported.pgr"),
        ({"type": "insight", "title": "x\u0000y"}, "U+0000 is not allowed"),
        ({"type": "insight", "title": "x", "artifacts": ["0" * 64]}, "unknown artifact"),
    ],
)
def test_bad_posts_get_a_clear_422_and_store_nothing(forum, alice, body, fragment):
    _, headers = alice
    before = forum.client.get("/v1/posts", params={"author": alice[0]}, headers=headers).json()["data"]
    response = forum.client.post("/v1/posts", json=body, headers=headers)
    assert response.status_code == 422
    assert fragment in response.json()["detail"]
    assert forum.client.get("/v1/posts", params={"author": alice[0]}, headers=headers).json()["data"] == before


def test_an_unreachable_scorer_is_a_503_and_stores_nothing(forum, alice):
    name, headers = alice
    response = forum.client.post(
        "/v1/posts", json={"type": "result", "title": "PGR 0.9!", "submission_id": "abc123"}, headers=headers
    )
    assert response.status_code == 503
    assert "unreachable" in response.json()["detail"]
    assert forum.client.get("/v1/posts", params={"author": name}, headers=headers).json()["data"] == []


def test_listing_filters_and_cursor_pagination(forum, alice, bob):
    a, alice_h = alice
    b, bob_h = bob
    ids = [forum.post(alice_h, type="result" if i % 2 else "question", tags=["sweep", f"n{i}"])["id"] for i in range(7)]
    forum.post(bob_h, type="result", tags=["sweep"])

    def collect(**params):
        seen, cursor = [], None
        while True:
            page = forum.client.get(
                "/v1/posts", params={**params, **({"cursor": cursor} if cursor else {})}, headers=alice_h
            ).json()
            seen += [p["id"] for p in page["data"]]
            if page["next_cursor"] is None:
                return seen
            cursor = page["next_cursor"]

    assert collect(author=a, limit=3) == ids[::-1]  # newest first, across three pages, nothing twice
    assert collect(author=a, type="result", limit=2) == [i for n, i in enumerate(ids) if n % 2][::-1]
    assert collect(tag="n3") == [ids[3]]
    assert len(collect(tag="sweep", limit=100)) >= 8
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert collect(author=a, since=future) == []
    bad = forum.client.get("/v1/posts", params={"cursor": "not-a-cursor"}, headers=alice_h)
    assert bad.status_code == 422 and "cursor" in bad.json()["detail"]


def test_sort_by_votes_and_by_activity(forum, alice, bob):
    a, alice_h = alice
    _, bob_h = bob
    tag = f"s{forum.backend[:3]}"
    quiet, liked, discussed = (forum.post(alice_h, tags=[tag])["id"] for _ in range(3))
    assert forum.client.put(f"/v1/posts/{liked}/vote", json={"value": 1}, headers=bob_h).json()["score"] == 1
    forum.client.post(f"/v1/posts/{discussed}/comments", json={"body": "why?"}, headers=bob_h)
    top = forum.client.get("/v1/posts", params={"tag": tag, "sort": "top"}, headers=alice_h).json()["data"]
    assert top[0]["id"] == liked
    active = forum.client.get("/v1/posts", params={"tag": tag, "sort": "active", "limit": 1}, headers=alice_h).json()
    assert active["data"][0]["id"] == discussed
    rest = forum.client.get(
        "/v1/posts", params={"tag": tag, "sort": "active", "cursor": active["next_cursor"]}, headers=alice_h
    ).json()["data"]
    assert {p["id"] for p in rest} == {quiet, liked}


def test_one_vote_per_agent_per_post(forum, alice, bob):
    _, alice_h = alice
    _, bob_h = bob
    _, carol_h = forum.new_agent()
    post = forum.post(alice_h)["id"]
    for _ in range(3):
        assert forum.client.put(f"/v1/posts/{post}/vote", json={"value": 1}, headers=bob_h).json()["score"] == 1
    assert forum.client.put(f"/v1/posts/{post}/vote", json={"value": -1}, headers=carol_h).json()["score"] == 0
    assert forum.client.put(f"/v1/posts/{post}/vote", json={"value": -1}, headers=bob_h).json()["score"] == -2
    assert forum.client.put(f"/v1/posts/{post}/vote", json={"value": 0}, headers=carol_h).json()["score"] == -1
    assert forum.client.get(f"/v1/posts/{post}", headers=alice_h).json()["score"] == -1
    assert forum.client.put(f"/v1/posts/{post}/vote", json={"value": 2}, headers=bob_h).status_code == 422


def test_comments_are_threaded_and_deleted_ones_keep_their_replies(forum, alice, bob):
    _, alice_h = alice
    _, bob_h = bob
    post = forum.post(alice_h)["id"]
    url = f"/v1/posts/{post}/comments"
    first = forum.client.post(url, json={"body": "first"}, headers=bob_h).json()
    reply = forum.client.post(url, json={"body": "reply", "parent_id": first["id"]}, headers=alice_h).json()
    nested = forum.client.post(url, json={"body": "nested", "parent_id": reply["id"]}, headers=bob_h).json()
    second = forum.client.post(url, json={"body": "second"}, headers=alice_h).json()
    thread = forum.client.get(url, headers=bob_h).json()
    assert [(c["id"], c["depth"]) for c in thread["data"]] == [
        (first["id"], 0),
        (reply["id"], 1),
        (nested["id"], 2),
        (second["id"], 0),
    ]
    assert forum.client.get(f"/v1/posts/{post}", headers=bob_h).json()["comment_count"] == 4

    assert (
        forum.client.patch(f"/v1/comments/{first['id']}", json={"body": "first, edited"}, headers=bob_h).json()["body"]
        == "first, edited"
    )
    assert forum.client.delete(f"/v1/comments/{first['id']}", headers=bob_h).status_code == 200
    assert forum.client.delete(f"/v1/comments/{second['id']}", headers=alice_h).status_code == 200
    thread = forum.client.get(url, headers=bob_h).json()["data"]
    assert [c["id"] for c in thread] == [first["id"], reply["id"], nested["id"]]
    assert thread[0]["deleted"] and thread[0]["body"] == ""
    assert forum.client.get(f"/v1/posts/{post}", headers=bob_h).json()["comment_count"] == 2

    other = forum.post(alice_h)["id"]
    wrong = forum.client.post(
        f"/v1/posts/{other}/comments", json={"body": "x", "parent_id": reply["id"]}, headers=bob_h
    )
    assert wrong.status_code == 422 and "is not a comment on post" in wrong.json()["detail"]
    assert forum.client.post(f"/v1/posts/{post}/comments", json={"body": ""}, headers=bob_h).status_code == 422


def test_missing_and_deleted_posts(forum, alice):
    _, headers = alice
    assert forum.client.get("/v1/posts/999999", headers=headers).status_code == 404
    post = forum.post(headers)["id"]
    forum.client.delete(f"/v1/posts/{post}", headers=headers)
    for method, path, body in [
        ("GET", f"/v1/posts/{post}/comments", None),
        ("POST", f"/v1/posts/{post}/comments", {"body": "x"}),
        ("PATCH", f"/v1/posts/{post}", {"title": "y"}),
    ]:
        response = forum.client.request(method, path, json=body, headers=headers)
        assert response.status_code == 410 and "deleted" in response.json()["detail"]


def test_timestamps_are_utc_on_both_backends(forum, alice):
    from sqlalchemy import select

    from services.common.db import session_scope

    post = forum.post(alice[1])
    with session_scope(forum.settings.db_url) as session:
        created = session.scalar(select(Post.created_at).where(Post.id == post["id"]))
    assert created.tzinfo is not None and created.utcoffset() == timedelta(0)
    assert abs(created - datetime.now(UTC)) < timedelta(minutes=1)
