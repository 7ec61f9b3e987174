"""The offline researcher: a baseline policy that needs no LLM.

It plays the model's part in the same loop, with the same tools, transcript and budget as Claude. Each
experiment it:

1. reads the forum (posts tagged ``baseline-policy``) and its notebook, to see which configurations
   anyone has tried;
2. picks the first untried configuration (a ``w2s.methods.spec.MethodSpec``: a built-in, or a
   relabelling built-in then a trainer, with hyper-parameters), in an order set by its starting direction;
3. writes the method module (a few lines that import and parameterise the built-ins) into its sandbox,
   checks that it compiles there, submits it, and waits for the server's score;
4. up-votes the best verified result of another agent, posts its result (or negative result) linked to
   the submission, and notes the outcome in its notebook.

It reads the tools' structured results (``workers.agent.records.ToolData``: exit codes, submissions,
posts), never their text, except its own notebook. Every decision is a function of the session so far
(its messages and those results, both rebuilt from the transcript on a resume), so a resumed run carries
on where it stopped. Every output says that it comes from a baseline policy.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from w2s.methods.spec import MethodSpec
from workers.agent.backends.base import ModelReply
from workers.agent.records import ExecData, PostsData, PostSummary, SubmissionData, ToolData

LABEL = "[baseline policy]"
TAG = "baseline-policy"
CONFIG_TAG = "cfg."
MODEL = "offline-baseline"


def all_configs() -> list[MethodSpec]:
    """Every configuration: built-ins (or a relabelling built-in then a trainer) and their parameters."""
    of = MethodSpec.of
    return [
        of(("vanilla", {})),
        of(("hard", {})),
        *(of(("confident", {"keep": k})) for k in (0.5, 0.3, 0.7)),
        *(of(("logconf", {"aux": a, "warmup": w})) for a in (0.5, 0.25, 0.75) for w in (0.2, 0.1)),
        *(of(("bootstrap", {"mix": m, "rounds": r})) for r in (2, 1, 3) for m in (0.5, 0.3)),
        *(of(("consistency", {"k": k})) for k in (15, 5, 30)),
        *(of(("consistency", {"k": k}), ("confident", {"keep": p})) for k in (15, 30) for p in (0.5, 0.7)),
        *(of(("consistency", {"k": k}), ("logconf", {"aux": a})) for k in (15, 30) for a in (0.5, 0.25)),
    ]


PREFERENCES = {  # direction keyword → families tried first, in order
    "unsupervised": ["consistency", "consistency-logconf"],
    "reweight": ["confident", "consistency-confident"],
    "noisy-label": ["bootstrap", "consistency"],
    "distillation": ["logconf", "hard"],
    "simplicity": ["hard", "vanilla", "confident"],
    "evolutionary": [],
    "interpretability": ["consistency", "consistency-confident"],
    "combination": ["consistency-confident", "consistency-logconf"],
}


def family(spec: MethodSpec) -> str:
    """The built-ins a configuration chains, e.g. ``consistency-confident``."""
    return "-".join(step.method for step in spec.steps)


def source(spec: MethodSpec) -> str:
    """The method module a configuration stands for: a few lines that import and parameterise built-ins."""
    return spec.render(f"{LABEL} {spec.slug}: written by the offline researcher (no LLM).")


def ordered_configs(direction: str, seed: int) -> list[MethodSpec]:
    """Every configuration, the direction's preferred families first (shuffled for evolutionary search)."""
    configs = all_configs()
    text = direction.lower()
    if "evolution" in text:
        random.Random(seed).shuffle(configs)
        return configs
    preferred = [f for key, families in PREFERENCES.items() if key in text for f in families]
    rank = {f: i for i, f in enumerate(dict.fromkeys(preferred))}
    return sorted(configs, key=lambda c: rank.get(family(c), len(rank)))


@dataclass(frozen=True)
class Call:
    """One answered tool call: what was asked, the text the model would read, and the structured result."""

    name: str
    input: dict
    text: str
    is_error: bool
    data: ToolData | None


def tool_history(messages: list[dict], results: Mapping[str, ToolData]) -> list[Call]:
    """Every answered tool call of the session, in order, with its structured result from ``results``."""
    answers = {
        b["tool_use_id"]: b
        for m in messages
        if m["role"] == "user" and isinstance(m["content"], list)
        for b in m["content"]
        if b.get("type") == "tool_result"
    }
    return [
        Call(
            b["name"],
            b["input"] or {},
            _text(answers[b["id"]]["content"]),
            answers[b["id"]]["is_error"],
            results.get(b["id"]),
        )
        for m in messages
        if m["role"] == "assistant"
        for b in m["content"]
        if b.get("type") == "tool_use" and b["id"] in answers
    ]


def _text(content: str | list[dict]) -> str:
    return content if isinstance(content, str) else "".join(b.get("text", "") for b in content)


def _last(history: list[Call], name: str) -> Call | None:
    return next((c for c in reversed(history) if c.name == name), None)


def _submission(call: Call | None) -> SubmissionData | None:
    """The submission a scorer tool call returned (``None`` when it failed)."""
    if call is None or call.is_error or not isinstance(call.data, SubmissionData):
        return None
    return call.data


def _slug(history: list[Call]) -> str:
    """The configuration of the experiment under way (the file it wrote)."""
    written = _last(history, "write_file")
    return "" if written is None else written.input["path"].rsplit("/", 1)[-1].removesuffix(".py")


class OfflineResearcher:
    """A ``ModelBackend`` whose replies are the baseline policy's next tool call."""

    name = "offline"
    model = MODEL

    def __init__(self, agent: str, direction: str = "", seed: int = 0, max_experiments: int = 3, wait_s: float = 1800):
        self.agent, self.direction, self.seed = agent, direction, seed
        self.max_experiments, self.wait_s = max_experiments, wait_s

    def complete(
        self, system: str, messages: list[dict], tools: list[dict], results: Mapping[str, ToolData] | None = None
    ) -> ModelReply:
        step = self.decide(tool_history(messages, results or {}))
        if step is None:
            return self._reply([{"type": "text", "text": f"{LABEL} I have nothing left to try; stopping."}], "end_turn")
        say, tool, arguments = step
        call = {"type": "tool_use", "id": f"toolu_offline_{uuid.uuid4().hex[:16]}", "name": tool, "input": arguments}
        return self._reply([{"type": "text", "text": f"{LABEL} {say}"}, call], "tool_use")

    @staticmethod
    def _reply(content: list[dict], stop: str) -> ModelReply:
        return ModelReply(content=content, stop_reason=stop, model=MODEL, request_id=None)

    # --- the policy --------------------------------------------------------------------------------

    def decide(self, history: list[Call]) -> tuple[str, str, dict] | None:
        """The next (explanation, tool, input) after the session's tool calls so far, or ``None`` to stop."""
        if not history:
            return "Reading what others have tried.", "forum_list", {"tag": TAG, "limit": 100}
        last = history[-1]
        if last.name == "forum_list":
            return "Reading my notebook.", "notebook_read", {}
        if last.name == "notebook_read":
            return self._choose(history, last.text)
        if last.name == "write_file":
            return (
                "Checking that the method compiles in my sandbox.",
                "bash",
                {"command": f"python3 -m py_compile {last.input['path']} && echo compiled", "timeout_s": 60},
            )
        if last.name == "bash":
            written = _last(history, "write_file")
            compiled = not last.is_error and isinstance(last.data, ExecData) and last.data.ok
            if written is None or not compiled:
                return (
                    "The method did not compile; noting it.",
                    "notebook_append",
                    {"text": f"config {_slug(history)}: did not compile\n{last.text[:500]}"},
                )
            return "Submitting it to the scorer.", "scorer_submit_method", {"path": written.input["path"]}
        if last.name == "scorer_submit_method":
            accepted = _submission(last)
            if accepted is None:
                return (
                    "The scorer refused the submission; noting it.",
                    "notebook_append",
                    {"text": f"config {_slug(history)}: submission refused: {last.text[:300]}"},
                )
            return (
                "Waiting for the server's score.",
                "scorer_status",
                {"submission_id": accepted.id, "wait_s": self.wait_s},
            )
        if last.name == "scorer_status":
            status = _submission(last)
            if status is not None and status.status in ("queued", "running"):
                return (
                    "Still scoring; waiting again.",
                    "scorer_status",
                    {"submission_id": status.id, "wait_s": self.wait_s},
                )
            return self._vote_or_post(history)
        if last.name == "forum_vote":
            return self._post(history)
        if last.name == "forum_post":
            return "Noting the outcome in my notebook.", "notebook_append", {"text": self._note(history)}
        if last.name == "notebook_append":
            if "submission refused" in last.input["text"]:
                return None
            return "Reading what others have tried since.", "forum_list", {"tag": TAG, "limit": 100}
        return "Reading what others have tried.", "forum_list", {"tag": TAG, "limit": 100}  # after any other tool

    def _choose(self, history: list[Call], notebook: str) -> tuple[str, str, dict] | None:
        mine = set(re.findall(r"^config (\S+):", notebook, flags=re.M))
        if len(mine) >= self.max_experiments:
            return None
        tagged = {t for p in _posts(history) for t in p.tags if t.startswith(CONFIG_TAG)}
        tried = mine | {t.removeprefix(CONFIG_TAG) for t in tagged}
        config = next((c for c in ordered_configs(self.direction, self.seed) if c.slug not in tried), None)
        if config is None:
            return None
        return (
            f"Nobody has tried {config.slug} yet; writing it as a method.",
            "write_file",
            {"path": f"methods/{config.slug}.py", "content": source(config)},
        )

    def _vote_or_post(self, history: list[Call]) -> tuple[str, str, dict]:
        voted = {c.input["post_id"] for c in history if c.name == "forum_vote"}
        others = [
            p for p in _posts(history) if p.verified_pgr is not None and p.author != self.agent and p.id not in voted
        ]
        if others:
            best = max(others, key=lambda p: p.verified_pgr or 0.0)
            return (
                f"Up-voting the best verified result so far ({best.title}).",
                "forum_vote",
                {"post_id": best.id, "value": 1},
            )
        return self._post(history)

    def _post(self, history: list[Call]) -> tuple[str, str, dict]:
        slug = _slug(history)
        status = _submission(_last(history, "scorer_status")) or SubmissionData(id="", status="unknown")
        verified = [p.verified_pgr for p in _posts(history) if p.verified_pgr is not None]
        best = max(verified, default=None)
        pgr = status.pgr
        # Only a submission that set a new ladder score has a score of its own to show as verified.
        improves = status.status == "done" and bool(status.ladder_moved) and pgr is not None
        improves = improves and (best is None or pgr >= best)
        body = (
            f"Configuration `{slug}` (offline researcher, a **baseline policy**: no LLM).\n\n"
            f"Status: {status.status}; ladder PGR {pgr}; "
            f"flags {status.flags or 'none'}."
            + (f"\n\nError: {status.error}" if status.error else "")
            + ("" if best is None else f"\n\nBest verified PGR among baseline-policy posts before this: {best}.")
        )
        post = {
            "type": "result" if improves else "negative-result",
            "title": f"{LABEL} {slug}: PGR {pgr if pgr is not None else 'n/a'}",
            "body": body,
            "tags": [TAG, CONFIG_TAG + slug, slug.split("-")[0]],
        }
        if improves:
            post["submission_id"] = status.id
        return ("Sharing the result." if improves else "Sharing a negative result."), "forum_post", post

    @staticmethod
    def _note(history: list[Call]) -> str:
        status = _submission(_last(history, "scorer_status"))
        if status is None:
            return f"config {_slug(history)}: status unknown (scorer_status failed)"
        return (
            f"config {_slug(history)}: {status.status} pgr={status.pgr} flags={status.flags} (submission {status.id})"
        )


def _posts(history: list[Call]) -> list[PostSummary]:
    """The posts the last forum listing returned."""
    listing = _last(history, "forum_list")
    if listing is None or listing.is_error or not isinstance(listing.data, PostsData):
        return []
    return listing.data.posts
