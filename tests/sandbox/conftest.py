"""Real providers for the sandbox tests: bubblewrap always, Docker for tests marked ``docker``.

A missing Docker engine or sandbox image fails the test (CI starts dockerd and builds the image);
nothing here skips. Every test gets its own run label, and whatever it leaves is swept and must be gone.
"""

from __future__ import annotations

import uuid

import pytest

from sandbox import SandboxUnavailableError, get_provider
from sandbox.escape import leftovers

PROVIDERS = ["bwrap", pytest.param("docker", marks=pytest.mark.docker)]


@pytest.fixture(scope="session")
def sandbox_root(tmp_path_factory):
    return tmp_path_factory.mktemp("sandboxes")


def make_provider(name: str, root):
    """The provider, checked; fails (never skips) when it cannot run here."""
    try:
        provider = get_provider(name, root)
        provider.check()
    except SandboxUnavailableError as exc:
        pytest.fail(f"the {name} provider cannot run here: {exc}")
    return provider


@pytest.fixture(scope="module", params=PROVIDERS)
def provider(request, sandbox_root):
    return make_provider(request.param, sandbox_root)


@pytest.fixture
def label(request, sandbox_root):
    """A fresh run label; afterwards its sandboxes are swept and must have left nothing behind."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    yield name
    for provider_name in ("bwrap", "docker") if "docker" in request.keywords else ("bwrap",):
        get_provider(provider_name, sandbox_root).sweep(name)
    assert leftovers(sandbox_root, name) == []
