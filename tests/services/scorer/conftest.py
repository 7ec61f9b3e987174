"""Scorer fixtures: an in-process app on SQLite for API behaviour, real processes for the rest."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from tests.utils.stack import scorer_env


@pytest.fixture
def scorer_home(tmp_path, aar_home):
    """A fresh scorer home that reuses the session's embedding and baseline caches."""
    home = tmp_path / "scorer-home"
    home.mkdir()
    (aar_home / "cache").mkdir(exist_ok=True)
    (home / "cache").symlink_to(aar_home / "cache", target_is_directory=True)
    return home


@pytest.fixture
def app_env(scorer_home, monkeypatch):
    """Environment of an embedded-default scorer (SQLite, filesystem queue) in this process."""
    from services.scorer.config import get_settings

    env = scorer_env(scorer_home, AAR_SCORER_SUBMISSIONS_PER_DAY="5")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()


@pytest.fixture
def client(app_env):
    from services.scorer.api.app import create_app

    with TestClient(create_app()) as c:
        yield c


@pytest.fixture
def admin(app_env):
    return {"Authorization": f"Bearer {app_env['AAR_ADMIN_TOKEN']}"}


@pytest.fixture
def new_agent(client, admin):
    """Issue a token for a fresh agent; returns (name, auth headers)."""

    def make(name: str | None = None) -> tuple[str, dict[str, str]]:
        name = name or f"agent-{uuid.uuid4().hex[:8]}"
        response = client.post("/v1/admin/tokens", json={"agent": name}, headers=admin)
        assert response.status_code == 201, response.text
        return name, {"Authorization": f"Bearer {response.json()['token']}"}

    return make
