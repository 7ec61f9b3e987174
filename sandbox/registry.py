"""Providers by name. Each entry imports its module only when asked for, so the docker SDK loads only
for the Docker provider.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from sandbox.base import SandboxProvider, SandboxUnavailableError
from sandbox.settings import SandboxSettings

PROVIDERS = {
    "bwrap": ("sandbox.providers.bwrap", "BwrapProvider", None),
    "docker": ("sandbox.providers.docker", "DockerProvider", "docker"),
}


def get_provider(name: str | None = None, root: Path | None = None) -> SandboxProvider:
    """The provider ``name`` (``bwrap`` or ``docker``), or the default.

    The default is ``AAR_SANDBOX_PROVIDER`` when set, else ``docker`` when ``DOCKER_HOST`` is set or the
    local engine's socket exists, else ``bwrap`` (the embedded default). Raises ``ValueError`` for an
    unknown name and ``SandboxUnavailableError`` when the provider's Python package is missing.
    """
    name = name or default_provider()
    if name not in PROVIDERS:
        raise ValueError(f"unknown sandbox provider {name!r}; known: {', '.join(PROVIDERS)}")
    module, cls, package = PROVIDERS[name]
    try:
        provider: type[SandboxProvider] = getattr(importlib.import_module(module), cls)
    except ModuleNotFoundError as exc:
        if package and exc.name == package:
            raise SandboxUnavailableError(f"the {name} provider needs `pip install 'aar[sandbox]'`") from exc
        raise
    return provider(root)


def default_provider() -> str:
    """Which provider ``get_provider()`` picks on this machine (see its docstring)."""
    settings = SandboxSettings()
    if settings.provider:
        return settings.provider
    if settings.docker_host or Path("/var/run/docker.sock").exists():
        return "docker"
    return "bwrap"
