"""Tools: a name, a description, a pydantic input model (its JSON schema is what the model sees) and a
function. The function returns the text the model reads, or a ``ToolReply``: that text with a structured
result (``workers.agent.records.ToolData``) that the loop stores in the transcript and that a policy
such as the offline researcher reads instead of the text. ``ToolError`` sends its message (and its
data, if any) back to the model as a tool error; so does any other exception (logged), bad input, an
unknown tool name or a timeout — a tool never crashes the run.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from workers.agent.records import ToolData

log = logging.getLogger("aar.agent.tools")


class ToolError(Exception):
    """A failure the model should see and can act on (bad path, timeout, refused submission...), with its
    structured result when there is one (a command that timed out)."""

    def __init__(self, message: str, data: ToolData | None = None):
        super().__init__(message)
        self.data = data


@dataclass(frozen=True)
class ToolReply:
    """What a tool returns: the text the model reads and the same result as structured data."""

    text: str
    data: ToolData | None = None


@dataclass(frozen=True)
class CallContext:
    """What a tool knows about the call: its tool-use id (used as an idempotency key) and the ``deadline``
    (``time.monotonic()``) by which the agent's budget ends, if it has one."""

    call_id: str
    deadline: float | None = None

    def time_left(self, wanted: float) -> float:
        """``wanted`` seconds, or less when the budget ends sooner; ``ToolError`` when it has ended."""
        if self.deadline is None:
            return wanted
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise ToolError("the time budget is spent; the tool was not run")
        return min(wanted, left)


InputT = TypeVar("InputT", bound=BaseModel)


@dataclass(frozen=True)
class Tool(Generic[InputT]):
    name: str
    description: str
    input_model: type[InputT]
    fn: Callable[[InputT, CallContext], str | ToolReply]

    def schema(self) -> dict[str, Any]:
        schema = self.input_model.model_json_schema()
        schema.pop("title", None)
        return {"name": self.name, "description": self.description, "input_schema": schema}


@dataclass
class ToolOutcome:
    content: str
    is_error: bool
    duration_s: float
    data: ToolData | None = None


def call_service(call, service: str):
    """Run a scorer or forum client call; its refusal (4xx/5xx) or an outage becomes a ``ToolError``."""
    import httpx

    from services.common.client import ServiceError

    try:
        return call()
    except ServiceError as exc:
        raise ToolError(f"the {service} refused: {exc}") from None
    except (httpx.HTTPError, OSError) as exc:
        raise ToolError(f"the {service} is unreachable: {exc}") from None


def artifact_name(name: str) -> str:
    """A model-chosen file name reduced to a safe base name (the last path component, at most 200
    characters); ``ToolError`` when nothing usable is left (``..``, empty, control characters)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if base in ("", ".", "..") or len(base) > 200 or any(ord(c) < 32 or c == "\x7f" for c in base):
        raise ToolError(f"{name!r} is not a usable file name: give a plain name like results.json")
    return base


def as_json(value) -> str:
    """A tool result as compact JSON (pydantic models included)."""
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    return json.dumps(value, default=str)


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters (head and tail kept), saying how much was left out."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n… [{len(text) - limit} characters left out] …\n{text[-half:]}"


class Toolbox:
    """An agent's tools by name, each bound to that agent's sandbox and tokens."""

    def __init__(self, tools: list[Tool], output_chars: int = 20_000):
        names = [t.name for t in tools]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate tool names: {names}")
        self.tools = {t.name: t for t in tools}
        self.output_chars = output_chars
        self._schemas = [t.schema() for t in tools]

    def schemas(self) -> list[dict]:
        """The tool definitions sent with every model call (built once)."""
        return self._schemas

    def run(self, name: str, arguments: dict, call_id: str, deadline: float | None = None) -> ToolOutcome:
        """Run one tool call (within ``deadline``, a ``time.monotonic()`` value); every failure becomes an
        error result."""
        start = time.monotonic()
        tool = self.tools.get(name)
        data = None
        try:
            if tool is None:
                raise ToolError(f"unknown tool {name!r}; available: {', '.join(self.tools)}")
            try:
                args = tool.input_model.model_validate(arguments)
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in exc.errors())
                raise ToolError(f"invalid input for {name}: {problems}") from None
            reply = tool.fn(args, CallContext(call_id, deadline))
            if isinstance(reply, ToolReply):
                content, data = reply.text, reply.data
            else:
                content = reply
            is_error = False
        except ToolError as exc:
            content, is_error, data = str(exc), True, exc.data
        except Exception as exc:  # a bug or an outage behind the tool: the model hears of it, the run goes on
            log.exception("tool %s crashed", name)
            content, is_error = f"internal error in {name}: {type(exc).__name__}: {exc}", True
        return ToolOutcome(truncate(content, self.output_chars), is_error, time.monotonic() - start, data)
