"""What every backend returns: Anthropic-style assistant content blocks, a stop reason and usage.

Messages are kept in the Messages API shape (``{"role", "content": [blocks]}`` with ``text``,
``tool_use`` and ``tool_result`` blocks); other backends convert at their edge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from workers.agent.budget import TokenUsage
from workers.agent.records import ToolData

STOP_REASONS = (
    "end_turn",
    "tool_use",
    "max_tokens",
    "stop_sequence",
    "pause_turn",
    "refusal",
    "model_context_window_exceeded",
)


class BackendError(Exception):
    """The model could not be reached after the client's retries (the run ends cleanly)."""


class ContextTooLong(BackendError):
    """The prompt no longer fits the model's context window (the loop starts a fresh session)."""


@dataclass
class ModelReply:
    content: list[dict]
    stop_reason: str
    usage: TokenUsage = field(default_factory=TokenUsage)
    model: str = ""
    request_id: str | None = None


class ModelBackend(Protocol):
    """One model endpoint. ``complete`` may raise ``BackendError`` or ``ContextTooLong``. ``results`` holds
    the structured results of the session's tool calls by call id (for a policy that reads them, like the
    offline researcher; a model reads only the messages)."""

    name: str
    model: str

    def complete(
        self, system: str, messages: list[dict], tools: list[dict], results: Mapping[str, ToolData] | None = None
    ) -> ModelReply: ...
