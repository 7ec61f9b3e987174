"""The sandbox package's own errors (``sandbox.base`` re-exports them; kept apart so that the modules
``base`` uses can raise them too)."""

from __future__ import annotations


class SandboxError(RuntimeError):
    """Base class of the sandbox package's own errors."""


class SandboxUnavailableError(SandboxError):
    """The provider cannot run the request: prerequisites missing, sandbox stopped or dead."""


class SizeLimitError(SandboxError):
    """A file or archive is over its size cap (``limit`` bytes)."""

    def __init__(self, message: str, limit: int):
        super().__init__(message)
        self.limit = limit
