"""Forum fixtures: the in-process app on both columns of the design (the embedded default: SQLite and no
Redis; production: a fresh Postgres database and a private Redis), fresh agents, and waiting for embeddings.

A missing Postgres or Redis makes these tests fail, never skip.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.forum.api.app import create_app
from services.forum.config import ForumSettings
from tests.utils.stack import RedisServer, free_port, postgres_database, wait_until

BACKENDS = ["embedded", "postgres"]


def forum_settings(home: Path, **overrides: str) -> ForumSettings:
    """Settings of a test forum under ``home``; values are given by their environment names, so nothing
    leaks in from this process's environment. The scorer URL points at a closed port unless overridden."""
    values = {
        "AAR_HOME": str(home),
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "AAR_ADMIN_TOKEN": f"admin-{uuid.uuid4().hex}",
        "AAR_SCORER_URL": f"http://127.0.0.1:{free_port()}",
        "AAR_FORUM_SCORER_TIMEOUT_S": "5",
        "AAR_FORUM_EMBED_POLL_S": "0.2",
        "AAR_FORUM_WRITES_PER_MINUTE": "10000",
        "AAR_FORUM_READS_PER_MINUTE": "10000",
        "AAR_FORUM_MAX_ARTIFACT_BYTES": str(1 << 20),
        **overrides,
    }
    return ForumSettings(**values)


@dataclass
class Forum:
    """A running in-process forum: its client, settings and helpers."""

    backend: str
    client: TestClient
    settings: ForumSettings
    redis: RedisServer | None = None
    agents: list[str] = field(default_factory=list)

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.settings.admin_token}"}

    def new_agent(self, name: str | None = None) -> tuple[str, dict[str, str]]:
        """Issue a token for a fresh agent; returns (name, auth headers)."""
        name = name or f"agent-{uuid.uuid4().hex[:8]}"
        response = self.client.post("/v1/admin/tokens", json={"agent": name}, headers=self.admin)
        assert response.status_code == 201, response.text
        return name, {"Authorization": f"Bearer {response.json()['token']}"}

    def post(self, headers: dict[str, str], **body) -> dict:
        body.setdefault("type", "insight")
        body.setdefault("title", f"post {uuid.uuid4().hex[:6]}")
        response = self.client.post("/v1/posts", json=body, headers=headers)
        assert response.status_code == 201, response.text
        return response.json()

    def wait_embedded(self, headers: dict[str, str], timeout: float = 60) -> None:
        """Until the background embedder has caught up with every live post."""
        wait_until(
            lambda: self.client.get("/v1/search/status", headers=headers).json()["pending"] == 0,
            timeout,
            "the forum embedder",
        )


@pytest.fixture(scope="module")
def forum_overrides() -> dict[str, str]:
    """Extra settings for this module's forum (a module may override this fixture)."""
    return {}


@pytest.fixture(scope="module", params=BACKENDS)
def forum(request, tmp_path_factory, forum_overrides):
    home = tmp_path_factory.mktemp(f"forum-{request.param}")
    if request.param == "embedded":
        with TestClient(create_app(forum_settings(home, **forum_overrides))) as client:
            yield Forum("embedded", client, client.app.state.runtime.settings)
        return
    redis = RedisServer().start()
    try:
        with postgres_database() as url:
            settings = forum_settings(home, DATABASE_URL=url, REDIS_URL=redis.url, **forum_overrides)
            with TestClient(create_app(settings)) as client:
                yield Forum("postgres", client, settings, redis)
    finally:
        redis.stop()


@pytest.fixture
def alice(forum):
    return forum.new_agent()


@pytest.fixture
def bob(forum):
    return forum.new_agent()
