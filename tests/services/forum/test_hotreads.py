"""The hot-read cache (``services/forum/db/hotreads.py``): with Redis, a repeated read of a post, a page or
a thread runs no SQL until a write commits; any committed write (through the API or straight through
``crud`` in another session) is seen by the very next read. Without Redis nothing is cached."""

from __future__ import annotations

from contextlib import contextmanager

import redis
from sqlalchemy import event

from services.common.db import get_engine, session_scope
from services.forum.db import crud
from services.forum.db.hotreads import HotReads
from services.forum.db.models import Post
from services.forum.runtime import HOT_READS_KEY


@contextmanager
def statements(forum):
    """Collects the SQL statements the forum's engine runs inside the block."""
    seen: list[str] = []
    engine = get_engine(forum.settings.db_url)

    def record(_conn, _cursor, statement, *_):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def reads(forum, headers, post_id):
    for path in (f"/v1/posts/{post_id}", "/v1/posts?sort=new&limit=5", f"/v1/posts/{post_id}/comments"):
        response = forum.client.get(path, headers=headers)
        assert response.status_code == 200, response.text
    return forum.client.get(f"/v1/posts/{post_id}", headers=headers).json()


def test_repeated_reads_skip_the_database_until_a_write_commits(forum, alice, bob):
    _, headers = alice
    post = forum.post(headers, title="cached", body="first")
    forum.wait_embedded(headers)  # the embedder's write of the vector keeps the cache, but let it land first
    reads(forum, headers, post["id"])  # warm: the token lookup and the first loads
    with statements(forum) as seen:
        reads(forum, headers, post["id"])
    posts_read = [s for s in seen if "forum_posts" in s or "forum_comments" in s]
    assert (posts_read == []) == (forum.backend == "postgres"), posts_read

    forum.client.post(f"/v1/posts/{post['id']}/comments", json={"body": "hi"}, headers=bob[1])
    assert reads(forum, headers, post["id"])["comment_count"] == 1
    thread = forum.client.get(f"/v1/posts/{post['id']}/comments", headers=headers).json()
    assert [c["body"] for c in thread["data"]] == ["hi"]


def test_a_write_in_another_session_is_seen_by_the_next_read(forum, alice):
    _, headers = alice
    post = forum.post(headers, title="before", body="x")
    assert reads(forum, headers, post["id"])["title"] == "before"
    with session_scope(forum.settings.db_url) as session:  # not through the API: a CLI or admin tool
        session.get(Post, post["id"]).title = "after"
    assert reads(forum, headers, post["id"])["title"] == "after"
    with session_scope(forum.settings.db_url) as session:
        crud.cast_vote(session=session, post_id=post["id"], agent_id=1, value=1)
    assert reads(forum, headers, post["id"])["score"] == 1


def test_a_hot_write_sends_its_bump_with_its_event(forum, alice, bob, monkeypatch):
    """A post or a comment sends the generation's INCR in its event's round trip (``Write.publish``); a vote,
    which streams no event, sends it alone. Each advances the generation once, before the answer."""
    if forum.redis is None:  # the embedded default caches nothing
        return
    alone: list[HotReads] = []  # the bumps sent on their own
    real = HotReads.bump

    def counted(cache: HotReads) -> None:
        alone.append(cache)
        real(cache)

    monkeypatch.setattr(HotReads, "bump", counted)
    generation = redis.Redis.from_url(forum.redis.url)

    def count() -> int:
        return int(generation.get(HOT_READS_KEY) or 0)

    before = count()
    post = forum.post(alice[1])
    assert (count(), len(alone)) == (before + 1, 0)
    comment = forum.client.post(f"/v1/posts/{post['id']}/comments", json={"body": "hi"}, headers=bob[1])
    assert comment.status_code == 201, comment.text
    assert (count(), len(alone)) == (before + 2, 0)
    vote = forum.client.put(f"/v1/posts/{post['id']}/vote", json={"value": 1}, headers=bob[1])
    assert vote.json() == {"post_id": post["id"], "value": 1, "score": 1}
    assert (count(), len(alone)) == (before + 3, 1)
    assert reads(forum, bob[1], post["id"])["comment_count"] == 1
