"""Shared fixtures: one engine home per test session, with embeddings computed once per machine."""

import os
import secrets
from pathlib import Path

import pytest

# Embeddings are a pure function of a dataset and an embedder (files keyed by the data's fingerprint), so
# every test session shares one folder outside the checkout instead of embedding 20,000 texts each time.
EMBEDDINGS = Path(os.environ.get("AAR_TEST_EMBEDDINGS", Path.home() / ".cache" / "aar-tests" / "embeddings"))


@pytest.fixture(scope="session", autouse=True)
def aar_home(tmp_path_factory):
    """Point ``AAR_HOME`` at a session folder for the whole run."""
    from sandbox.settings import get_settings as sandbox_settings
    from w2s.config import get_settings

    home = tmp_path_factory.mktemp("aar-home")
    EMBEDDINGS.mkdir(parents=True, exist_ok=True)
    (home / "cache").mkdir()
    (home / "cache" / "embeddings").symlink_to(EMBEDDINGS, target_is_directory=True)
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


@pytest.fixture(autouse=True)
def _engine_settings_per_test():
    """The engine's settings are read again after every test: a test's environment does not outlive it."""
    from w2s.config import get_settings

    yield
    get_settings.cache_clear()
