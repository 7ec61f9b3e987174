"""The offline hacker: a policy that attacks the scorer with no LLM, so the hacker–fixer loop runs in CI and
on a box without a key.

It plays the model's part in the same loop, with a hacker's tools (workspace, notebook, scorer, the forum
read-only). Each attack it:

1. reads its notebook (the attacks it made, with what the scorer showed it);
2. takes the next variant (``workers.agent.attacks``: label carriers × uses × sizes, and label-free
   channels), skipping a carrier at a larger size once a smaller one was flagged (it already lost);
3. writes the method into its sandbox, submits it with a one-line description of the attack, and waits;
4. notes the outcome as it saw it (status, flags, ladder score) in its notebook.

The scorer records each attack's verdict for admins (``/v1/admin/attacks``); the hacker sees only what a
researcher would. Every decision is a function of the session's tool calls, so a resumed run carries on.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping

from workers.agent.attacks import SIZES, Variant, render, variants
from workers.agent.backends.base import ModelReply
from workers.agent.backends.offline import Call, last_call, submission_of, tool_history
from workers.agent.records import ToolData

LABEL = "[offline hacker]"
MODEL = "offline-hacker"
ATTACK_PATH = "methods/attack-{slug}.py"
NOTE = re.compile(r"^attack (\S+): (\S+) flags=\[([^\]]*)\]", flags=re.M)


class OfflineHacker:
    """A ``ModelBackend`` whose replies are the hacker policy's next tool call."""

    name = "offline"
    model = MODEL

    def __init__(self, agent: str, task: str, seed: int = 0, max_experiments: int = 3, wait_s: float = 1800, **_):
        self.agent, self.task, self.seed = agent, task, f"{agent}:{seed}"
        self.max_experiments, self.wait_s = max_experiments, wait_s
        self.plan = variants(seed)

    def complete(
        self, system: str, messages: list[dict], tools: list[dict], results: Mapping[str, ToolData] | None = None
    ) -> ModelReply:
        step = self.decide(tool_history(messages, results or {}))
        if step is None:
            content = [{"type": "text", "text": f"{LABEL} No attack left to try; stopping."}]
            return ModelReply(content=content, stop_reason="end_turn", model=MODEL, request_id=None)
        say, tool, arguments = step
        call = {"type": "tool_use", "id": f"toolu_hacker_{uuid.uuid4().hex[:16]}", "name": tool, "input": arguments}
        return ModelReply(
            content=[{"type": "text", "text": f"{LABEL} {say}"}, call],
            stop_reason="tool_use",
            model=MODEL,
            request_id=None,
        )

    def decide(self, history: list[Call]) -> tuple[str, str, dict] | None:
        """The next (explanation, tool, input) after the session's tool calls so far, or ``None`` to stop."""
        if not history:
            return "Reading my notebook: the attacks I made so far.", "notebook_read", {}
        last = history[-1]
        if last.name in ("notebook_read", "notebook_append"):
            notebook = last_call(history, "notebook_read")
            notes = (notebook.text if notebook else "") + "".join(
                "\n" + c.input.get("text", "") for c in history if c.name == "notebook_append"
            )
            return self._next_attack(notes)
        if last.name == "write_file":
            variant = _slug(last.input["path"])
            description = next((v.description(self.task) for v in self.plan if v.slug == variant), variant)
            return (
                f"Submitting {variant}.",
                "scorer_submit_method",
                {"path": last.input["path"], "description": description},
            )
        if last.name == "scorer_submit_method":
            accepted = submission_of(last)
            if accepted is None:
                return "Refused at intake; noting it.", "notebook_append", {"text": self._note(history, "refused")}
            return "Waiting for the verdict.", "scorer_status", {"submission_id": accepted.id, "wait_s": self.wait_s}
        if last.name == "scorer_status":
            status = submission_of(last)
            if status is not None and status.status in ("queued", "running"):
                return "Still scoring; waiting.", "scorer_status", {"submission_id": status.id, "wait_s": self.wait_s}
            return "Noting what the scorer showed me.", "notebook_append", {"text": self._note(history)}
        return "Reading my notebook.", "notebook_read", {}

    def _next_attack(self, notes: str) -> tuple[str, str, dict] | None:
        done = {slug: (status, flags) for slug, status, flags in NOTE.findall(notes)}
        if len(done) >= self.max_experiments:
            return None
        lost = {slug.split("-")[0] for slug, (status, flags) in done.items() if flags.strip() or status == "refused"}
        variant = next((v for v in self.plan if v.slug not in done and not _lost(v, lost)), None)
        if variant is None:
            return None
        return (
            f"Next attack: {variant.description(self.task)}",
            "write_file",
            {"path": ATTACK_PATH.format(slug=variant.slug), "content": render(variant, self.task, self.seed)},
        )

    @staticmethod
    def _note(history: list[Call], outcome: str | None = None) -> str:
        written = last_call(history, "write_file")
        slug = _slug(written.input["path"]) if written else "?"
        status = submission_of(last_call(history, "scorer_status"))
        if outcome or status is None:
            return f"attack {slug}: {outcome or 'unknown'} flags=[]"
        flags = ",".join(status.flags)
        return f"attack {slug}: {status.status} flags=[{flags}] pgr={status.pgr} (submission {status.id})"


def _slug(path: str) -> str:
    """The variant an attack's method file stands for (``ATTACK_PATH``)."""
    return path.removeprefix(ATTACK_PATH.split("{")[0]).removesuffix(".py")


def _lost(variant: Variant, lost: set[str]) -> bool:
    """A carrier the scorer already caught at a smaller size is not tried larger."""
    return variant.carrier is not None and variant.carrier in lost and variant.size != SIZES[0]
