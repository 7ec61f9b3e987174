"""Claude through the Anthropic Messages API (the ``anthropic`` SDK).

- Retries with backoff on 429, 529 and other 5xx, honouring ``retry-after``, are the SDK's
  (``max_retries``); every failed attempt is reported to ``on_api_error`` for the transcript.
- Prompt caching: breakpoints on the tools, the system prompt and the last message, so each call
  reads the previous call's prefix from the cache.
- Non-streaming with a bounded ``max_tokens`` (the SDK refuses non-streaming calls that could run
  past its 10-minute limit; 8k–16k output tokens stays well inside it).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from workers.agent.backends.base import BackendError, ContextTooLong, ModelReply
from workers.agent.budget import TokenUsage
from workers.agent.config import AgentSettings

if TYPE_CHECKING:
    from anthropic.types import MessageParam, ToolUnionParam

CACHE = {"type": "ephemeral"}


def with_cache_breakpoints(system: str, messages: list[dict], tools: list[dict]) -> tuple[list, list, list]:
    """Copies of the request parts with ``cache_control`` on the last tool, the system prompt and the
    last block of the last message (the caller's lists are not changed)."""
    system_blocks = [{"type": "text", "text": system, "cache_control": CACHE}]
    tools = [*tools[:-1], {**tools[-1], "cache_control": CACHE}] if tools else []
    messages = list(messages)
    if messages:
        last = copy.deepcopy(messages[-1])
        if isinstance(last["content"], str):
            last["content"] = [{"type": "text", "text": last["content"]}]
        cacheable = [b for b in last["content"] if b.get("type") in ("text", "tool_result", "tool_use", "image")]
        if cacheable:
            cacheable[-1]["cache_control"] = CACHE
        messages[-1] = last
    return system_blocks, messages, tools


def content_to_dicts(blocks) -> list[dict]:
    """SDK content blocks as plain dicts that can be sent back unchanged."""
    out = []
    for block in blocks:
        if block.type == "text":
            out.append({"type": "text", "text": block.text})
        elif block.type == "tool_use":
            out.append({"type": "tool_use", "id": block.id, "name": block.name, "input": block.input})
        else:  # thinking, redacted_thinking, server tool blocks: echoed as they came
            out.append(block.model_dump(exclude_none=True))
    return out


class AnthropicBackend:
    """``complete`` raises ``ContextTooLong`` for an over-long prompt and ``BackendError`` once the SDK
    has given up retrying."""

    name = "anthropic"

    def __init__(self, settings: AgentSettings, on_api_error: Callable[[dict], None] | None = None):
        import anthropic

        self.model = settings.model
        self.max_tokens = settings.max_tokens
        self._on_api_error = on_api_error
        self._anthropic = anthropic
        self.client = anthropic.Anthropic(
            api_key=settings.anthropic_api_key,
            base_url=settings.anthropic_base_url,
            max_retries=settings.max_retries,
            timeout=settings.request_timeout_s,
            http_client=anthropic.DefaultHttpxClient(event_hooks={"response": [self._on_response]}),
        )

    def _on_response(self, response) -> None:
        if response.status_code >= 400 and self._on_api_error is not None:
            self._on_api_error(
                {
                    "status": response.status_code,
                    "retry_after": response.headers.get("retry-after"),
                    "request_id": response.headers.get("request-id"),
                }
            )

    def complete(self, system: str, messages: list[dict], tools: list[dict], results=None) -> ModelReply:
        system_blocks, messages, tools = with_cache_breakpoints(system, messages, tools)
        errors = self._anthropic
        try:
            message = self.client.messages.create(
                model=self.model,
                max_tokens=self.max_tokens,
                system=system_blocks,
                messages=cast("list[MessageParam]", messages),  # the API's own JSON shape, built as plain dicts
                tools=cast("list[ToolUnionParam]", tools),
            )
        except errors.BadRequestError as exc:
            if "prompt is too long" in str(exc).lower() or "context window" in str(exc).lower():
                raise ContextTooLong(str(exc)) from exc
            raise BackendError(f"the API refused the request: {exc}") from exc
        except (errors.APIStatusError, errors.APIConnectionError) as exc:
            raise BackendError(f"{type(exc).__name__}: {exc}") from exc
        usage = message.usage
        return ModelReply(
            content=content_to_dicts(message.content),
            stop_reason=message.stop_reason or "end_turn",
            usage=TokenUsage(
                input_tokens=usage.input_tokens or 0,
                output_tokens=usage.output_tokens or 0,
                cache_creation_input_tokens=usage.cache_creation_input_tokens or 0,
                cache_read_input_tokens=usage.cache_read_input_tokens or 0,
            ),
            model=message.model,
            request_id=getattr(message, "_request_id", None),
        )
