"""Any OpenAI-compatible chat-completions server with tool calls (for example vLLM on the GPU node).

Messages stay in the Messages API shape inside the worker and are converted here, at the edge.
Retries 429 and 5xx with exponential backoff, honouring ``Retry-After``.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable

import httpx

from workers.agent.backends.base import BackendError, ContextTooLong, ModelReply
from workers.agent.budget import TokenUsage
from workers.agent.config import AgentSettings

FINISH_TO_STOP = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens", "content_filter": "refusal"}


def _text(blocks: list[dict]) -> str:
    return "\n".join(b["text"] for b in blocks if b.get("type") == "text")


def to_openai_messages(system: str, messages: list[dict]) -> list[dict]:
    """Messages API turns as chat-completions messages (tool results become ``tool`` messages)."""
    out: list[dict] = [{"role": "system", "content": system}]
    for message in messages:
        content = message["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if message["role"] == "assistant":
            calls = [
                {
                    "id": b["id"],
                    "type": "function",
                    "function": {"name": b["name"], "arguments": json.dumps(b["input"])},
                }
                for b in blocks
                if b.get("type") == "tool_use"
            ]
            turn = {"role": "assistant", "content": _text(blocks) or None}
            out.append({**turn, "tool_calls": calls} if calls else turn)
            continue
        for b in blocks:
            if b.get("type") == "tool_result":
                result = b["content"] if isinstance(b["content"], str) else _text(b["content"])
                out.append({"role": "tool", "tool_call_id": b["tool_use_id"], "content": result})
        if _text(blocks):
            out.append({"role": "user", "content": _text(blocks)})
    return out


def to_openai_tools(tools: list[dict]) -> list[dict]:
    return [
        {
            "type": "function",
            "function": {"name": t["name"], "description": t["description"], "parameters": t["input_schema"]},
        }
        for t in tools
    ]


def from_openai_choice(choice: dict) -> tuple[list[dict], str]:
    """Assistant content blocks and the Messages API stop reason of one choice."""
    message = choice.get("message") or {}
    blocks: list[dict] = []
    if message.get("content"):
        blocks.append({"type": "text", "text": message["content"]})
    for call in message.get("tool_calls") or []:
        try:
            arguments = json.loads(call["function"].get("arguments") or "{}")
        except json.JSONDecodeError:
            arguments = {"_unparsed_arguments": call["function"].get("arguments")}
        blocks.append({"type": "tool_use", "id": call["id"], "name": call["function"]["name"], "input": arguments})
    stop = "tool_use" if message.get("tool_calls") else FINISH_TO_STOP.get(str(choice.get("finish_reason")), "end_turn")
    return blocks, stop


class OpenAIBackend:
    name = "openai"

    def __init__(self, settings: AgentSettings, on_api_error: Callable[[dict], None] | None = None):
        self.model = settings.model
        self.max_tokens = settings.max_tokens
        self.max_retries = settings.max_retries
        self._on_api_error = on_api_error
        headers = {"Authorization": f"Bearer {settings.openai_api_key}"} if settings.openai_api_key else {}
        self.http = httpx.Client(
            base_url=settings.openai_base_url.rstrip("/"), headers=headers, timeout=settings.request_timeout_s
        )

    def complete(self, system: str, messages: list[dict], tools: list[dict], results=None) -> ModelReply:
        body = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "messages": to_openai_messages(system, messages),
            **({"tools": to_openai_tools(tools)} if tools else {}),
        }
        data = self._post(body)
        blocks, stop = from_openai_choice(data["choices"][0])
        usage = data.get("usage") or {}
        cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
        return ModelReply(
            content=blocks,
            stop_reason=stop,
            usage=TokenUsage(
                input_tokens=(usage.get("prompt_tokens") or 0) - cached,
                output_tokens=usage.get("completion_tokens") or 0,
                cache_read_input_tokens=cached,
            ),
            model=data.get("model", self.model),
            request_id=data.get("id"),
        )

    def _post(self, body: dict) -> dict:
        for attempt in range(self.max_retries + 1):
            try:
                response = self.http.post("/chat/completions", json=body)
            except httpx.TransportError as exc:
                if attempt == self.max_retries:
                    raise BackendError(f"cannot reach {self.http.base_url}: {exc}") from exc
                time.sleep(min(30.0, 0.5 * 2**attempt))
                continue
            if response.status_code < 400:
                return response.json()
            retry_after = response.headers.get("retry-after")
            if self._on_api_error is not None:
                self._on_api_error({"status": response.status_code, "retry_after": retry_after})
            if response.status_code == 400 and "context" in response.text.lower():
                raise ContextTooLong(response.text[:500])
            if response.status_code != 429 and response.status_code < 500 or attempt == self.max_retries:
                raise BackendError(f"{response.status_code}: {response.text[:500]}")
            try:
                delay = float(retry_after)
            except (TypeError, ValueError):
                delay = min(30.0, 0.5 * 2**attempt) * (1 - 0.25 * random.random())
            time.sleep(delay)
        raise BackendError("unreachable")
