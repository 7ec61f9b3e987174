"""Fixtures of the agent tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def campaign_home(tmp_path, aar_home, monkeypatch):
    from w2s.config import get_settings

    home = tmp_path / "home"
    home.mkdir()
    (aar_home / "cache").mkdir(exist_ok=True)
    (home / "cache").symlink_to(aar_home / "cache", target_is_directory=True)
    for key, value in {
        "AAR_HOME": str(home),
        "AAR_SCORER_SEEDS": "2",
        "AAR_DEVICE": "cpu",
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "AAR_SCORER_HEARTBEAT_S": "1",
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("ANTHROPIC_API_KEY", "AAR_ADMIN_TOKEN", "AAR_SCORER_URL", "AAR_FORUM_URL"):
        monkeypatch.delenv(key, raising=False)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()
