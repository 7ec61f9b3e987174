"""Shared fixtures: one engine home per test session, so embeddings are computed once."""

import secrets

import pytest


@pytest.fixture(scope="session", autouse=True)
def aar_home(tmp_path_factory):
    """Point ``AAR_HOME`` at a session folder for the whole run."""
    from sandbox.settings import get_settings as sandbox_settings
    from w2s.config import get_settings

    home = tmp_path_factory.mktemp("aar-home")
    mp = pytest.MonkeyPatch()
    mp.setenv("AAR_HOME", str(home))
    mp.setenv("AAR_DEVICE", "cpu")
    mp.setenv("AAR_SCORING_SECRET", secrets.token_hex(32))  # one deployment's secret, shared with its services
    # Workspace images are allocated in full: tests that take the default size get 1 GiB, not 10.
    mp.setenv("AAR_SANDBOX_DISK_MB", "1024")
    get_settings.cache_clear()
    sandbox_settings.cache_clear()
    yield home
    mp.undo()
    get_settings.cache_clear()
    sandbox_settings.cache_clear()
