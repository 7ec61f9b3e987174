"""A Messages-API-compatible server on 127.0.0.1 that plays scripted turns (a test fixture, never a
product path). The real ``anthropic`` SDK talks to it through ``base_url``.

A turn is either a reply — ``reply(content, stop_reason, usage)`` — or a failure —
``failure(status, retry_after)`` — served in order to ``POST /v1/messages``. The same server answers
``POST /v1/chat/completions`` (OpenAI-compatible) from its own script of raw response bodies. Every
request body is kept in ``requests`` for assertions.
"""

from __future__ import annotations

import itertools
import threading
import time

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.common.localstack import free_port, wait_until

ERROR_TYPES = {429: "rate_limit_error", 529: "overloaded_error", 500: "api_error", 400: "invalid_request_error"}
_ids = itertools.count(1)


def usage(input_tokens=1200, output_tokens=180, cache_creation=0, cache_read=0) -> dict:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": cache_creation,
        "cache_read_input_tokens": cache_read,
    }


def text(value: str) -> dict:
    return {"type": "text", "text": value}


def tool_use(name: str, arguments: dict, call_id: str | None = None) -> dict:
    return {"type": "tool_use", "id": call_id or f"toolu_{next(_ids):04d}", "name": name, "input": arguments}


def reply(content: list[dict], stop_reason: str = "end_turn", use: dict | None = None) -> dict:
    return {"content": content, "stop_reason": stop_reason, "usage": use or usage()}


def failure(status: int, retry_after: str | None = None, message: str = "scripted failure") -> dict:
    return {"status": status, "retry_after": retry_after, "message": message}


class ScriptedLLM:
    """Serves ``turns`` in order; an exhausted script answers 500 with ``x-should-retry: false``."""

    def __init__(self, turns: list[dict] | None = None, openai_turns: list[dict] | None = None):
        self.turns = list(turns or [])
        self.openai_turns = list(openai_turns or [])
        self.requests: list[dict] = []
        self.request_times: list[float] = []
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        app = FastAPI()
        app.post("/v1/messages")(self._messages)
        app.post("/v1/chat/completions")(self._chat)
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> ScriptedLLM:
        self._thread.start()
        wait_until(lambda: self._server.started, 10, "the scripted LLM server")
        return self

    def __exit__(self, *exc) -> None:
        self._server.should_exit = True
        self._thread.join(10)

    def _next(self, script: list[dict], body: dict) -> dict | None:
        with self._lock:
            self.requests.append(body)
            self.request_times.append(time.monotonic())
            return script.pop(0) if script else None

    async def _messages(self, request: Request) -> JSONResponse:
        body = await request.json()
        turn = self._next(self.turns, body)
        if turn is None:
            return self._error(500, None, "the script is exhausted", {"x-should-retry": "false"})
        if "status" in turn:
            return self._error(turn["status"], turn["retry_after"], turn["message"])
        message_id = f"msg_{next(_ids):06d}"
        return JSONResponse(
            {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": turn["content"],
                "stop_reason": turn["stop_reason"],
                "stop_sequence": None,
                "usage": turn["usage"],
            },
            headers={"request-id": f"req_{message_id}"},
        )

    async def _chat(self, request: Request) -> JSONResponse:
        turn = self._next(self.openai_turns, await request.json())
        if turn is None:
            return self._error(500, None, "the script is exhausted", {})
        if "status" in turn:
            return self._error(turn["status"], turn["retry_after"], turn["message"])
        return JSONResponse(turn)

    @staticmethod
    def _error(status: int, retry_after: str | None, message: str, headers: dict | None = None) -> JSONResponse:
        headers = dict(headers or {})
        if retry_after is not None:
            headers["retry-after"] = retry_after
        body = {"type": "error", "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message}}
        return JSONResponse(body, status_code=status, headers=headers)
