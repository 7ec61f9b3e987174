"""Read-your-write across API processes: a real ``aar forum api --workers 2`` (Postgres + Redis) and the
embedded default. Each write is followed at once by reads on fresh connections, which the kernel may hand
to either worker; every read must show the write. Guards any read cache or replica a later change adds."""

from __future__ import annotations

import os
import uuid
from contextlib import nullcontext

import httpx
import pytest

from services.common.localstack import Service
from tests.utils.stack import RedisServer, free_port, postgres_database

ROUNDS = 15


@pytest.fixture(scope="module", params=["embedded", "postgres"])
def api(request, tmp_path_factory):
    """(base URL, admin headers) of a running forum API; two workers on Postgres + Redis (with the hot-read
    cache, ``db/hotreads.py``), one on the embedded default."""
    home = tmp_path_factory.mktemp(f"forum-ryw-{request.param}")
    admin = f"admin-{uuid.uuid4().hex}"
    env = {
        **os.environ,
        "AAR_HOME": str(home),
        "AAR_ADMIN_TOKEN": admin,
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "AAR_SCORER_URL": f"http://127.0.0.1:{free_port()}",
        "AAR_FORUM_WRITES_PER_MINUTE": "100000",
        "AAR_FORUM_READS_PER_MINUTE": "100000",
    }
    redis = RedisServer().start() if request.param == "postgres" else None
    try:
        with postgres_database() if redis else nullcontext() as database_url:
            workers = "1"
            if redis:
                env.update(DATABASE_URL=database_url, REDIS_URL=redis.url)
                workers = "2"
            port = free_port()
            service = Service(
                "forum-api",
                ["forum", "api", "--port", str(port), "--workers", workers],
                env,
                home / "forum-api.log",
                f"http://127.0.0.1:{port}/healthz",
            ).start()
            try:
                service.wait_healthy(120)
                yield f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {admin}"}
            except Exception:
                print(service.tail())
                raise
            finally:
                service.stop()
    finally:
        if redis:
            redis.stop()


def agent(base: str, admin: dict[str, str]) -> dict[str, str]:
    response = httpx.post(f"{base}/v1/admin/tokens", json={"agent": f"ryw-{uuid.uuid4().hex[:8]}"}, headers=admin)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def fresh_get(base: str, path: str, headers: dict[str, str]) -> dict:
    """A GET on a new connection (no keep-alive), so consecutive reads may land on different workers."""
    response = httpx.get(f"{base}{path}", headers={**headers, "Connection": "close"}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_writer_reads_its_own_posts_edits_comments_and_votes_at_once(api):
    base, admin = api
    alice, bob = agent(base, admin), agent(base, admin)
    for i in range(ROUNDS):
        post = httpx.post(
            f"{base}/v1/posts", json={"type": "insight", "title": f"ryw {i}", "tags": ["ryw"]}, headers=alice
        ).json()
        pid = post["id"]
        assert fresh_get(base, f"/v1/posts/{pid}", alice)["title"] == f"ryw {i}"
        assert fresh_get(base, "/v1/posts?sort=new&limit=5", alice)["data"][0]["id"] == pid
        assert fresh_get(base, "/v1/posts?tag=ryw&limit=1", alice)["data"][0]["id"] == pid

        edited = httpx.patch(f"{base}/v1/posts/{pid}", json={"title": f"ryw {i} edited"}, headers=alice)
        assert edited.status_code == 200, edited.text
        assert fresh_get(base, f"/v1/posts/{pid}", alice)["title"] == f"ryw {i} edited"

        comment = httpx.post(f"{base}/v1/posts/{pid}/comments", json={"body": f"c{i}"}, headers=bob)
        assert comment.status_code == 201, comment.text
        assert [c["body"] for c in fresh_get(base, f"/v1/posts/{pid}/comments", bob)["data"]] == [f"c{i}"]
        assert fresh_get(base, f"/v1/posts/{pid}", bob)["comment_count"] == 1

        assert httpx.put(f"{base}/v1/posts/{pid}/vote", json={"value": 1}, headers=bob).status_code == 200
        assert fresh_get(base, f"/v1/posts/{pid}", bob)["score"] == 1
        assert fresh_get(base, "/v1/posts?sort=top&limit=50", bob)["data"][0]["score"] >= 1

        assert httpx.delete(f"{base}/v1/posts/{pid}", headers=alice).status_code == 200
        gone = httpx.get(f"{base}/v1/posts/{pid}", headers={**alice, "Connection": "close"})
        assert gone.status_code == 410
