"""Model backends: Anthropic (default), OpenAI-compatible chat completions, the offline researcher and hacker."""

from __future__ import annotations

from workers.agent.backends.base import BackendError, ModelBackend, ModelReply
from workers.agent.config import AgentSettings


def make_backend(
    settings: AgentSettings, on_api_error=None, offline: dict | None = None, role: str = "researcher"
) -> ModelBackend:
    """The backend ``settings`` select (``auto``: Anthropic with a key, else the offline researcher, or the
    offline hacker for a ``hacker``, built with the keyword arguments in ``offline``)."""
    name = settings.resolved_backend()
    if name == "anthropic":
        from workers.agent.backends.anthropic import AnthropicBackend

        return AnthropicBackend(settings, on_api_error=on_api_error)
    if name == "openai":
        from workers.agent.backends.openai_compat import OpenAIBackend

        return OpenAIBackend(settings, on_api_error=on_api_error)
    if role == "hacker":
        from workers.agent.backends.offline_hacker import OfflineHacker

        return OfflineHacker(**(offline or {}))
    from workers.agent.backends.offline import OfflineResearcher

    return OfflineResearcher(**{k: v for k, v in (offline or {}).items() if k != "task"})


__all__ = ["BackendError", "ModelBackend", "ModelReply", "make_backend"]
