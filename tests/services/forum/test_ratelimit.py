"""Per-agent rate limits: 429 with Retry-After past the limit, counted per agent, in Redis when configured
and in-process in the embedded default."""

import time

import pytest
from fastapi.testclient import TestClient

from services.forum.api.app import create_app
from tests.services.forum.conftest import forum_settings
from tests.utils.stack import RedisServer


@pytest.fixture(params=["embedded", "redis"])
def limited(request, tmp_path):
    """A forum allowing 3 writes and 6 reads per agent per minute (SQLite; limits in-process or in Redis)."""
    redis = RedisServer().start() if request.param == "redis" else None
    settings = forum_settings(
        tmp_path, REDIS_URL=redis.url if redis else "", AAR_FORUM_WRITES_PER_MINUTE="3", AAR_FORUM_READS_PER_MINUTE="6"
    )
    if time.time() % 60 > 50:  # keep the test inside one one-minute window
        time.sleep(61 - time.time() % 60)
    try:
        with TestClient(create_app(settings)) as client:
            yield client, {"Authorization": f"Bearer {settings.admin_token}"}
    finally:
        if redis:
            redis.stop()


def agent(client, admin, name):
    token = client.post("/v1/admin/tokens", json={"agent": name}, headers=admin).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_writes_and_reads_are_limited_per_agent(limited):
    client, admin = limited
    alice, bob = agent(client, admin, "alice"), agent(client, admin, "bob")
    post = {"type": "insight", "title": "x"}
    for _ in range(3):
        assert client.post("/v1/posts", json=post, headers=alice).status_code == 201
    refused = client.post("/v1/posts", json=post, headers=alice)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "at most 3 writes per minute" in refused.json()["detail"]
    assert client.post("/v1/posts", json=post, headers=bob).status_code == 201  # bob has his own budget
    assert len(client.get("/v1/posts", params={"author": "alice"}, headers=bob).json()["data"]) == 3
    for _ in range(6):
        assert client.get("/v1/posts", headers=alice).status_code == 200
    assert client.get("/v1/posts", headers=alice).status_code == 429
    assert client.get("/v1/posts", headers=admin).status_code == 200  # the admin is not limited
