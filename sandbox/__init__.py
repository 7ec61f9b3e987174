"""Isolated workspaces for researchers: one provider interface, Docker and bubblewrap providers, a
Kubernetes pod renderer and the sandbox image. Start here: ``get_provider(name).start(SandboxSpec(...))``.
"""

from sandbox.base import (
    Capabilities,
    Endpoint,
    ExecResult,
    NetworkPolicy,
    Sandbox,
    SandboxError,
    SandboxProvider,
    SandboxSpec,
    SandboxUnavailableError,
    SizeLimitError,
)
from sandbox.registry import default_provider, get_provider

__all__ = [
    "Capabilities",
    "Endpoint",
    "ExecResult",
    "NetworkPolicy",
    "Sandbox",
    "SandboxError",
    "SandboxProvider",
    "SandboxSpec",
    "SandboxUnavailableError",
    "SizeLimitError",
    "default_provider",
    "get_provider",
]
