"""Scorer tools: submit a method or predictions from a sandbox file, check status, leaderboard, quota.

They call the scorer with the agent's own token, held by the worker (never by the sandbox). The
tool-use id is the submission's ``Idempotency-Key``, so a tool call replayed after a crash cannot
submit twice.
"""

from __future__ import annotations

import json
import time

from pydantic import BaseModel, Field

from services.scorer.client import ScorerClient
from services.scorer.contract import FINAL_STATUSES, MAX_DESCRIPTION_CHARS, MAX_SOURCE_CHARS
from workers.agent.records import SubmissionData
from workers.agent.tools.base import CallContext, Tool, ToolError, ToolReply, as_json, call_service
from workers.agent.tools.workspace import NoInput, read_text, resolve, write_text

MAX_WAIT_S = 1800.0


def _call(call):
    return call_service(call, "scorer")


class SubmitFile(BaseModel):
    path: str = Field(description="a file in your sandbox: a method module (def run(ctx)) or a predictions JSON")


class SubmitMethod(SubmitFile):
    description: str = Field(
        "", max_length=MAX_DESCRIPTION_CHARS, description="one line: what the method does (recorded with it)"
    )


class StatusInput(BaseModel):
    submission_id: str = Field(min_length=1, max_length=64)
    wait_s: float = Field(0, ge=0, le=MAX_WAIT_S, description="wait up to this long for a final status")


class InputsInput(BaseModel):
    dest: str = Field("task/inputs.json", description="where to save the inputs in your sandbox")


def submission_view(sub) -> SubmissionData:
    """What the agent sees of a submission: status, ladder score, flags, error."""
    result = sub.result
    return SubmissionData(
        id=sub.id,
        status=sub.status,
        pgr=result.pgr if result else None,
        ladder_moved=result.ladder_moved if result else None,
        flags=sub.flags,
        error=sub.error,
    )


def scorer_tools(client: ScorerClient, task: str, sandbox, should_stop=lambda: False) -> list[Tool]:
    """Scorer tools for one agent (``client`` carries its token) on one task; a wait for a score ends early
    when ``should_stop`` turns true (the campaign is stopping)."""

    def submit_method(a: SubmitMethod, call: CallContext) -> ToolReply:
        source = read_text(sandbox, a.path)
        if len(source) > MAX_SOURCE_CHARS:
            raise ToolError(f"{a.path} has {len(source)} characters; the scorer takes at most {MAX_SOURCE_CHARS}")
        accepted = _call(
            lambda: client.submit_method(task, source, idempotency_key=call.call_id, description=a.description)
        )
        text = as_json({"id": accepted.id, "status": accepted.status, "hint": "use scorer_status with wait_s"})
        return ToolReply(text, SubmissionData(id=accepted.id, status=accepted.status))

    def submit_predictions(a: SubmitFile, call: CallContext) -> ToolReply:
        try:
            predictions = json.loads(read_text(sandbox, a.path))
        except json.JSONDecodeError as exc:
            raise ToolError(f"{a.path} is not JSON: {exc}") from None
        if not isinstance(predictions, dict):
            raise ToolError("predictions must be a JSON object {item_id: probability} over every test_public item")
        accepted = _call(lambda: client.submit_predictions(task, predictions, idempotency_key=call.call_id))
        text = as_json({"id": accepted.id, "status": accepted.status})
        return ToolReply(text, SubmissionData(id=accepted.id, status=accepted.status))

    def status(a: StatusInput, ctx: CallContext) -> ToolReply:
        deadline = time.monotonic() + ctx.time_left(a.wait_s) if a.wait_s else time.monotonic()
        while True:
            sub = _call(lambda: client.submission(a.submission_id))
            if sub.status in FINAL_STATUSES or time.monotonic() >= deadline or should_stop():
                view = submission_view(sub)
                return ToolReply(view.model_dump_json(exclude={"kind"}), view)
            time.sleep(min(2.0, max(0.1, deadline - time.monotonic())))

    def leaderboard(_: NoInput, __: CallContext) -> str:
        return as_json(_call(lambda: client.leaderboard(task)))

    def quota(_: NoInput, __: CallContext) -> str:
        return as_json(_call(client.quota))

    def task_inputs(a: InputsInput, _: CallContext) -> str:
        inputs = _call(lambda: client.task_inputs(task))
        write_text(sandbox, a.dest, inputs.model_dump_json())
        return (
            f"saved to {resolve(a.dest)}: {len(inputs.transfer)} transfer items (id, text, weak_label) and "
            f"{len(inputs.test_public)} test_public items (id, text); no ground-truth labels"
        )

    return [
        Tool(
            "scorer_submit_method",
            f"Submit a method module from your sandbox for scoring on {task}; the server "
            "trains it on seeds it picks and reports PGR.",
            SubmitMethod,
            submit_method,
        ),
        Tool(
            "scorer_submit_predictions",
            f"Submit predictions {{item_id: P(class 1)}} for every test_public item of {task}.",
            SubmitFile,
            submit_predictions,
        ),
        Tool(
            "scorer_status",
            "A submission's status, ladder-reported PGR, per-seed PGR and integrity flags.",
            StatusInput,
            status,
        ),
        Tool("scorer_leaderboard", f"Server-computed scores of every agent on {task}.", NoInput, leaderboard),
        Tool("scorer_quota", "Submissions and compute seconds you have left today.", NoInput, quota),
        Tool(
            "scorer_task_inputs",
            "Download the task's inputs and weak labels (no ground truth) into your sandbox.",
            InputsInput,
            task_inputs,
        ),
    ]
