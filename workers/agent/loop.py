"""The researcher's tool-use loop.

Rules (after the Anthropic SDK's tool runner): every ``tool_use`` gets a ``tool_result``, even for an
unknown or crashing tool; a refusal ends the turn without running its tools; budgets are checked
before and after every model call and (with the stop flag) before every tool call, and a running tool
gets no more time than the wall-clock and working-time budgets leave; a run always ends with a final
``agent_end`` record.

Stop reasons:

- ``tool_use``: run the tools, send their results;
- ``end_turn`` / ``stop_sequence``: nudge the researcher to go on; after ``max_idle_turns`` turns in a
  row without a tool call, the run ends (``finished``);
- ``max_tokens``: the reply was cut off; its tool calls (possibly incomplete) are dropped and the
  model is told so;
- ``pause_turn``: the assistant turn is sent back as is so the model continues it;
- ``refusal``: the session ends without running tools; a second refusal ends the run;
- ``model_context_window_exceeded`` (or a prompt-too-long error, or input past
  ``context_limit_tokens``): a fresh session starts, carrying the notebook as memory.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from workers.agent.backends.base import BackendError, ContextTooLong, ModelBackend, ModelReply
from workers.agent.budget import Budget, PriceTable, Usage
from workers.agent.config import AgentSettings
from workers.agent.records import (
    AgentEnd,
    AgentStart,
    ModelCall,
    Record,
    SessionStart,
    ToolData,
    ToolResult,
    UserMessage,
)
from workers.agent.tools.base import Toolbox
from workers.agent.transcript import Transcript, read_records

CONTINUE = (
    "Continue your research. Use your tools: run experiments in your sandbox, submit to the scorer, share "
    "findings on the forum, and keep your notebook up to date."
)
ENDS_SESSION = ("refusal", "model_context_window_exceeded")
INTERRUPTED = "the worker restarted before this tool call finished; its effect is unknown, check before retrying"


@dataclass
class ResumeState:
    """What a transcript says about a run: where it was and what it had spent."""

    session: int = 0
    messages: list[dict] = field(default_factory=list)
    results: dict[str, ToolData] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    started_at: float | None = None
    ended: str | None = None
    idle_turns: int = 0
    refusals: int = 0
    partial_results: list[dict] = field(default_factory=list)

    @property
    def pending_tool_calls(self) -> list[dict]:
        """``tool_use`` blocks of the last assistant turn that have no result yet."""
        if not self.messages or self.messages[-1]["role"] != "assistant":
            return []
        done = {r["tool_use_id"] for r in self.partial_results}
        return [b for b in self.messages[-1]["content"] if b.get("type") == "tool_use" and b["id"] not in done]


def resume_state(records: list[Record]) -> ResumeState:
    """Rebuild the current session's messages and tool results, the totals and the counters from transcript
    records."""
    state = ResumeState()
    results: list[dict] = []

    def flush_results() -> None:
        if results:
            state.messages.append({"role": "user", "content": list(results)})
            results.clear()

    for r in records:
        if isinstance(r, ModelCall | ToolResult | AgentEnd) and r.totals is not None:
            state.usage = r.totals
        match r:
            case AgentStart() if state.started_at is None:
                state.started_at = r.at.timestamp()
            case SessionStart():
                state.session, state.messages, state.results, results = r.session, [], {}, []
            case UserMessage():
                flush_results()
                state.messages.append({"role": "user", "content": r.content})
            case ModelCall():
                flush_results()
                if r.stop_reason not in ENDS_SESSION:
                    state.messages.append({"role": "assistant", "content": echoed(r.content, r.stop_reason)})
                state.idle_turns, state.refusals = r.idle_turns, r.refusals
            case ToolResult():
                results.append(_result_block(r.id, r.content, r.is_error))
                if r.data is not None:
                    state.results[r.id] = r.data
            case AgentEnd():
                state.ended = r.reason
    state.partial_results = list(results)
    if not state.pending_tool_calls:  # the last turn's tools all finished: their results form a user turn
        state.partial_results = []
        flush_results()
    return state


def echoed(content: list[dict], stop_reason: str) -> list[dict]:
    """The assistant turn as it is sent back: a reply cut off at ``max_tokens`` loses its tool calls."""
    content = content or [{"type": "text", "text": "(no content)"}]
    if stop_reason == "max_tokens":
        content = [b for b in content if b.get("type") != "tool_use"] or [{"type": "text", "text": "(cut off)"}]
    return content


def _result_block(call_id: str, content: str, is_error: bool) -> dict:
    return {"type": "tool_result", "tool_use_id": call_id, "content": content, "is_error": is_error}


class Researcher:
    """One agent's run: model calls, tool calls, transcript and budget, until something ends it."""

    def __init__(
        self,
        *,
        name: str,
        backend: ModelBackend,
        toolbox: Toolbox,
        system_prompt: str,
        opening: Callable[[int], str],
        transcript: Transcript,
        budget: Budget,
        prices: PriceTable,
        settings: AgentSettings,
        should_stop: Callable[[], bool] = lambda: False,
        on_step: Callable[[Researcher], None] = lambda _r: None,
    ):
        self.name, self.backend, self.toolbox = name, backend, toolbox
        self.system_prompt, self.opening = system_prompt, opening
        self.transcript, self.budget, self.prices, self.settings = transcript, budget, prices, settings
        self.should_stop, self.on_step = should_stop, on_step
        self.messages: list[dict] = []
        self.results: dict[str, ToolData] = {}  # the current session's structured tool results, by call id
        self.idle_turns = 0
        self.refusals = 0
        self.last_context = 0
        self.status = "starting"
        self._tick = time.monotonic()

    # --- lifecycle ---------------------------------------------------------------------------------

    def run(self, state: ResumeState | None = None, meta: dict | None = None) -> str:
        """Run (or resume from ``state``) until finished, stopped, out of budget or out of model; returns
        the reason, which is also the final transcript record's."""
        state = state or ResumeState()
        self.transcript.session = state.session
        self.messages = list(state.messages)
        self.results = dict(state.results)
        self.idle_turns, self.refusals = state.idle_turns, state.refusals
        self.transcript.write(
            "agent_start",
            agent=self.name,
            backend=self.backend.name,
            model=self.backend.model,
            resumed=bool(state.messages),
            **(meta or {}),
        )
        self._tick = time.monotonic()
        if not self.messages:
            self._new_session(None)
        elif state.pending_tool_calls:  # crashed while tools ran: answer every open call
            interrupted = [(b["id"], INTERRUPTED, True) for b in state.pending_tool_calls]
            for call_id, content, is_error in interrupted:
                self.transcript.write("tool_result", id=call_id, name="", is_error=is_error, content=content)
            done = [(r["tool_use_id"], r["content"], r["is_error"]) for r in state.partial_results]
            self._send_results(done + interrupted)
        try:
            return self._loop()
        except Exception as exc:  # a bug in the worker itself: still leave a final record
            self._end(f"worker error: {type(exc).__name__}: {exc}")
            raise

    def _loop(self) -> str:
        while True:
            reason = self._must_stop()
            if reason:
                return self._end(reason)
            self.status = "thinking"
            try:
                reply = self._call_model()
            except ContextTooLong:
                self._new_session("the prompt no longer fit the context window")
                continue
            except BackendError as exc:
                return self._end(f"model unavailable: {exc}")
            reason = self._must_stop(check_stop_flag=False)
            if reason:
                return self._end(reason)
            ended = self._handle(reply)
            self.on_step(self)
            if ended:
                return self._end(ended)

    def _must_stop(self, check_stop_flag: bool = True) -> str | None:
        self._account_time()
        if check_stop_flag and self.should_stop():
            return "stopped"
        return self.budget.exceeded()

    def _account_time(self) -> None:
        now = time.monotonic()
        self.budget.usage.working_s += now - self._tick
        self._tick = now

    def _end(self, reason: str) -> str:
        self._account_time()
        self.status = reason
        self.transcript.write("agent_end", reason=reason, totals=self.budget.usage.model_dump())
        return reason

    def _new_session(self, reason: str | None) -> None:
        if reason is not None:
            self.transcript.write("session_end", reason=reason)
        self.transcript.session += 1
        self.transcript.write("session_start", reason=reason)
        self.messages = []
        self.results = {}
        self.last_context = 0
        self._send_user(self.opening(self.transcript.session))

    # --- one model call ------------------------------------------------------------------------------

    def _call_model(self) -> ModelReply:
        start = time.monotonic()
        reply = self.backend.complete(self.system_prompt, self.messages, self.toolbox.schemas(), results=self.results)
        latency = time.monotonic() - start
        cost = self.prices.cost(reply.model or self.backend.model, reply.usage)
        self.budget.usage.add_call(reply.usage, cost)
        self.last_context = reply.usage.context
        if reply.stop_reason == "refusal":
            self.refusals += 1
        self.idle_turns = self.idle_turns + 1 if reply.stop_reason in ("end_turn", "stop_sequence") else 0
        self._account_time()
        self.transcript.write(
            "model_call",
            model=reply.model,
            request_id=reply.request_id,
            stop_reason=reply.stop_reason,
            usage=reply.usage.model_dump(),
            cost_usd=cost,
            latency_s=round(latency, 4),
            content=reply.content,
            idle_turns=self.idle_turns,
            refusals=self.refusals,
            totals=self.budget.usage.model_dump(),
        )
        return reply

    def _handle(self, reply: ModelReply) -> str | None:
        """Act on the stop reason; returns why the run ends, or ``None`` to go on."""
        stop = reply.stop_reason
        content = echoed(reply.content, stop)
        if stop == "refusal":
            if self.refusals >= 2:
                return "the model refused twice"
            self._new_session("the model refused")
            return None
        if stop == "model_context_window_exceeded":
            self._new_session("the context window is full")
            return None
        if stop == "max_tokens":
            self.messages.append({"role": "assistant", "content": content})
            self._send_user(
                f"Your reply hit the {self.settings.max_tokens}-token output limit and was cut off; tool calls in "
                "it were not run. Continue, more concisely (write long code to files in smaller pieces)."
            )
            return None
        self.messages.append({"role": "assistant", "content": content})
        if stop == "pause_turn":
            return None
        calls = [b for b in content if b.get("type") == "tool_use"]
        if calls:
            self._run_tools(calls)
        elif self.idle_turns >= self.settings.max_idle_turns:
            return "finished"
        else:
            self._send_user(CONTINUE)
        if self.last_context > self.settings.context_limit_tokens:
            self._new_session(f"context reached {self.last_context} tokens")
        return None

    def _run_tools(self, calls: list[dict]) -> None:
        """Run the turn's tool calls in order. Before each one the budgets and the stop flag are checked: once
        one says stop, that call and the rest are answered without running (every ``tool_use`` gets its
        ``tool_result``) and the loop then ends the run. A running tool gets no more time than the budget
        leaves."""
        results = []
        for call in calls:
            reason = self._must_stop()
            data = None
            if reason:
                content, is_error, duration = f"not run: {reason}", True, 0.0
            else:
                known = call["name"] in self.toolbox.tools  # a model's name is shown only once it is a tool's
                self.status = f"tool {call['name']}" if known else "tool (unknown name)"
                self.transcript.write("tool_call", id=call["id"], name=call["name"], input=call["input"])
                left = self.budget.seconds_left()
                deadline = None if left is None else time.monotonic() + left
                outcome = self.toolbox.run(call["name"], call["input"] or {}, call["id"], deadline)
                self.budget.usage.tool_calls += 1
                self._account_time()
                content, is_error, duration, data = outcome.content, outcome.is_error, outcome.duration_s, outcome.data
            self.transcript.write(
                "tool_result",
                id=call["id"],
                name=call["name"],
                is_error=is_error,
                content=content,
                duration_s=round(duration, 4),
                data=data,
                totals=self.budget.usage.model_dump(),
            )
            if data is not None:
                self.results[call["id"]] = data
            results.append((call["id"], content, is_error))
        self._send_results(results)

    def _send_results(self, results: list[tuple[str, str, bool]]) -> None:
        """Send tool results (already in the transcript) as one user turn."""
        self.messages.append({"role": "user", "content": [_result_block(*r) for r in results]})

    def _send_user(self, text: str) -> None:
        content = [{"type": "text", "text": text}]
        self.transcript.write("user", content=content)
        self.messages.append({"role": "user", "content": content})


def load_state(path) -> ResumeState:
    """The resume state of the transcript at ``path`` (empty when there is none)."""
    return resume_state(read_records(path))
