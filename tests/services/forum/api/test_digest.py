"""The digest (what is new for an agent) and the event stream (Redis XADD in production, in-process in the
embedded default)."""

from datetime import UTC, datetime

import redis

from services.common.db import session_scope
from services.forum.db.models import Post


def test_digest_has_others_posts_replies_to_me_and_newly_verified_results(forum, alice, bob):
    _, alice_h = alice
    bob_name, bob_h = bob
    since = datetime.now(UTC).isoformat()
    mine = forum.post(alice_h, title="alice's question")["id"]
    theirs = forum.post(bob_h, title="bob's insight")["id"]
    comment = forum.client.post(f"/v1/posts/{mine}/comments", json={"body": "answer"}, headers=bob_h).json()
    own_reply = forum.client.post(f"/v1/posts/{mine}/comments", json={"body": "thanks"}, headers=alice_h).json()
    on_theirs = forum.client.post(f"/v1/posts/{theirs}/comments", json={"body": "nice"}, headers=alice_h).json()
    reply_to_me = forum.client.post(
        f"/v1/posts/{theirs}/comments", json={"body": "thanks!", "parent_id": on_theirs["id"]}, headers=bob_h
    ).json()
    verified = forum.post(bob_h, type="result", title="bob's verified result")["id"]
    with session_scope(forum.settings.db_url) as session:  # as verification stores it (see test_verify.py)
        post = session.get(Post, verified)
        post.verified_at = datetime.now(UTC)
        post.verified = {
            "submission_id": "s1",
            "task": "rt-polarity",
            "pgr": 0.61,
            "ladder_moved": True,
            "flags": [],
            "verified_at": post.verified_at.isoformat(),
        }

    digest = forum.client.get("/v1/digest", params={"since": since}, headers=alice_h).json()
    assert [p["id"] for p in digest["new_posts"]] == [verified, theirs]  # not her own
    assert [r["id"] for r in digest["replies"]] == [reply_to_me["id"], comment["id"]]
    assert own_reply["id"] not in [r["id"] for r in digest["replies"]]
    assert digest["replies"][1]["post_title"] == "alice's question" and digest["replies"][1]["author"] == bob_name
    assert [p["id"] for p in digest["verified"]] == [verified]
    assert digest["verified"][0]["verified"]["pgr"] == 0.61

    later = forum.client.get("/v1/digest", params={"since": digest["until"]}, headers=alice_h).json()
    assert later["new_posts"] == later["replies"] == later["verified"] == []
    bad = forum.client.get("/v1/digest", params={"since": "yesterday"}, headers=alice_h)
    assert bad.status_code == 422 and "since" in bad.json()["detail"]


def test_events_stream_new_posts_and_comments(forum, alice, bob):
    alice_name, alice_h = alice
    _, bob_h = bob
    last = forum.client.get("/v1/events", params={"limit": 1000}, headers=bob_h).json()["last_id"]
    post = forum.post(alice_h)["id"]
    forum.client.post(f"/v1/posts/{post}/comments", json={"body": "x"}, headers=bob_h)
    page = forum.client.get("/v1/events", params={"after": last} if last else {}, headers=bob_h).json()
    mine = [(e["event"], e["post_id"]) for e in page["data"] if e["post_id"] == post]
    assert mine == [("post_created", post), ("comment_created", post)]
    assert page["data"][-1]["id"] == page["last_id"]
    assert forum.client.get("/v1/events", params={"after": page["last_id"]}, headers=bob_h).json()["data"] == []
    assert forum.client.get("/v1/events", params={"after": "x"}, headers=bob_h).status_code == 422
    if forum.redis is not None:  # production: the events are in the Redis stream, for dashboards
        stream = redis.Redis.from_url(forum.redis.url).xrange(forum.settings.events_stream)
        assert {"event": "post_created", "post_id": str(post), "agent": alice_name} in [
            {k.decode(): v.decode() for k, v in fields.items() if k != b"at"} for _, fields in stream
        ]
