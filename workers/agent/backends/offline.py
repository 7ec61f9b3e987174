"""The offline researcher: a baseline policy that needs no LLM.

It plays the model's part in the same loop, with the same tools, transcript and budget as Claude. Each
experiment it:

1. reads the forum (posts tagged ``baseline-policy``: every researcher's configurations and verified
   scores) and its notebook (its own experiments);
2. asks its search policy (``workers.agent.search``: each method family once at its defaults, the families
   of its starting direction first, then regularised evolution over the hyper-parameters) for the next
   configuration nobody has tried: a built-in, or a relabelling built-in then a trainer
   (``w2s.methods.spec.MethodSpec``), with hyper-parameters inside the built-ins' own bounds;
3. claims it on the forum (a ``hypothesis`` post tagged ``claim``: the other baseline researchers skip
   a claimed configuration, so researchers running at once do not score the same one twice);
4. writes the method module (a few lines that import and parameterise the built-ins) into its sandbox,
   checks that it compiles there, submits it, and waits for the server's score;
5. up-votes the best verified result of another agent, posts its result (or negative result) linked to
   the submission, and notes the outcome in its notebook.

It reads the tools' structured results (``workers.agent.records.ToolData``: exit codes, submissions,
posts), never their text, except its own notebook. Every decision is a function of the session so far
(its messages and those results, both rebuilt from the transcript on a resume), so a resumed run carries
on where it stopped. Every output says that it comes from a baseline policy.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from w2s.methods.spec import MethodSpec, parameters
from workers.agent.backends.base import ModelReply
from workers.agent.records import ExecData, PostsData, PostSummary, SubmissionData, ToolData
from workers.agent.search import Config, Param, Search, Trial

LABEL = "[baseline policy]"
TAG = "baseline-policy"
CONFIG_TAG = "cfg."
CLAIM = "trying"
CLAIM_TAG = "claim"
MODEL = "offline-baseline"


# The search space: method families (built-ins, or a relabelling built-in then a trainer, joined by "+").
# vanilla and hard have no hyper-parameters and are the reference, not candidates.
FAMILIES = (
    "confident",
    "logconf",
    "bootstrap",
    "consistency",
    "gce",
    "sce",
    "entmin",
    "smallloss",
    "em",
    "consistency+confident",
    "consistency+logconf",
    "consistency+gce",
    "em+confident",
)

# Direction keyword → families explored first, in order. The built-in directions start on distinct families:
# researchers that start together read an empty forum, so only their first choices can collide.
PREFERENCES = {
    "unsupervised": ["consistency", "consistency+logconf", "em"],
    "reweight": ["confident", "smallloss", "consistency+confident"],
    "noisy-label": ["gce", "sce", "em", "bootstrap"],
    "distillation": ["logconf", "entmin"],
    "simplicity": ["bootstrap", "confident"],
    "evolutionary": [],
    "interpretability": ["em+confident", "consistency"],
    "combination": ["consistency+confident", "consistency+logconf", "em+confident", "consistency+gce"],
}


def search_space(families: tuple[str, ...] = FAMILIES) -> dict[str, list[Param]]:
    """Each family's parameters, ``<built-in>.<name>``, with the built-ins' own defaults and bounds (a range
    over two orders of magnitude moves on a log scale; ints and bools move in whole numbers)."""
    space: dict[str, list[Param]] = {}
    for fam in families:
        methods = fam.split("+")
        space[fam] = [
            Param(
                f"{method}.{b.name}",
                float(b.low),
                float(b.high),
                float(b.default),
                log=b.low > 0 and b.high / b.low >= 100,
                integer=b.kind in (int, bool),
            )
            for i, method in enumerate(methods)
            for b in parameters(method, "run" if i == len(methods) - 1 else "relabel")
        ]
    return space


def to_spec(config: Config) -> MethodSpec:
    """The method a search configuration stands for."""
    params = dict(config.params)
    return MethodSpec.of(
        *(
            (method, {k.split(".", 1)[1]: v for k, v in params.items() if k.split(".", 1)[0] == method})
            for method in config.family.split("+")
        )
    )


def source(config: Config) -> str:
    """The method module a configuration stands for: a few lines that import and parameterise built-ins."""
    return to_spec(config).render(f"{LABEL} {config.slug}: written by the offline researcher (no LLM).")


def preferred(direction: str) -> list[str]:
    """The families a direction explores first."""
    text = direction.lower()
    return list(dict.fromkeys(f for key, families in PREFERENCES.items() if key in text for f in families))


def parse_config(text: str) -> Config | None:
    """A configuration from its slug (``family name=value ...``), as posts and notes write it; ``None`` if not one."""
    family, *pairs = text.split()
    try:
        return Config.of(family, {k: float(v) for k, v in (pair.split("=", 1) for pair in pairs)})
    except ValueError:
        return None


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


def last_call(history: list[Call], name: str) -> Call | None:
    return next((c for c in reversed(history) if c.name == name), None)


def submission_of(call: Call | None) -> SubmissionData | None:
    """The submission a scorer tool call returned (``None`` when it failed)."""
    if call is None or call.is_error or not isinstance(call.data, SubmissionData):
        return None
    return call.data


def _slug(history: list[Call]) -> str:
    """The configuration of the experiment under way (the first line of the method it wrote)."""
    written = last_call(history, "write_file")
    if written is None:
        return ""
    first = written.input.get("content", "").split("\n", 1)[0]
    return first.removeprefix(f'"""{LABEL} ').split(":", 1)[0]


class OfflineResearcher:
    """A ``ModelBackend`` whose replies are the baseline policy's next tool call."""

    name = "offline"
    model = MODEL

    def __init__(self, agent: str, direction: str = "", seed: int = 0, max_experiments: int = 3, wait_s: float = 1800):
        self.agent, self.direction, self.seed = agent, direction, seed
        self.max_experiments, self.wait_s = max_experiments, wait_s
        self.search = Search(search_space(), seed=f"{agent}:{seed}", prefer=preferred(direction))

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
        interrupted = last.is_error and last.data is None and last.name in ("write_file", "bash")
        if interrupted and (len(history) < 2 or history[-2].name != last.name):
            # e.g. a call a stop cut off (a resumed run answers it with an error and no result): run it once more
            return f"The last step ({last.name}) did not run; running it again.", last.name, last.input
        if last.name == "write_file":
            return (
                "Checking that the method compiles in my sandbox.",
                "bash",
                {"command": f"python3 -m py_compile {last.input['path']} && echo compiled", "timeout_s": 60},
            )
        if last.name == "bash":
            written = last_call(history, "write_file")
            compiled = not last.is_error and isinstance(last.data, ExecData) and last.data.ok
            if written is None or not compiled:
                return (
                    "The method did not compile; noting it.",
                    "notebook_append",
                    {"text": f"config {_slug(history)}: did not compile\n{last.text[:500]}"},
                )
            return "Submitting it to the scorer.", "scorer_submit_method", {"path": written.input["path"]}
        if last.name == "scorer_submit_method":
            accepted = submission_of(last)
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
            status = submission_of(last)
            if status is not None and status.status in ("queued", "running"):
                return (
                    "Still scoring; waiting again.",
                    "scorer_status",
                    {"submission_id": status.id, "wait_s": self.wait_s},
                )
            return self._vote_or_post(history)
        if last.name == "forum_vote":
            return self._post(history)
        if last.name == "forum_post" and last.input.get("type") == "hypothesis":
            return self._write(last.input)  # the claim is posted (or failed: the race is only lost, not the work)
        if last.name == "forum_post":
            return "Noting the outcome in my notebook.", "notebook_append", {"text": self._note(history)}
        if last.name == "notebook_append":
            if "submission refused" in last.input["text"]:
                return None
            return "Reading what others have tried since.", "forum_list", {"tag": TAG, "limit": 100}
        return "Reading what others have tried.", "forum_list", {"tag": TAG, "limit": 100}  # after any other tool

    def _choose(self, history: list[Call], notebook: str) -> tuple[str, str, dict] | None:
        mine = [c for c in (parse_config(s) for s in re.findall(r"^config (.+?):", notebook, flags=re.M)) if c]
        if len(mine) >= self.max_experiments:
            return None
        config = self.search.propose(_trials(_posts(history)), pending=mine)
        if config is None:
            return None
        claim = {
            "type": "hypothesis",
            "title": f"{LABEL} {CLAIM} {config.slug}",
            "body": "The offline researcher (a **baseline policy**: no LLM) is scoring this configuration now; "
            "other baseline researchers skip it.",
            "tags": [TAG, CLAIM_TAG],
        }
        return f"Nobody has tried {config.slug} yet; claiming it on the forum.", "forum_post", claim

    @staticmethod
    def _write(claim: Mapping[str, Any]) -> tuple[str, str, dict] | None:
        config = parse_config(str(claim["title"]).removeprefix(f"{LABEL} {CLAIM} "))
        if config is None:
            return None
        return (
            f"Writing {config.slug} as a method.",
            "write_file",
            {"path": f"methods/{config.family.replace('+', '-')}-{config.key}.py", "content": source(config)},
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
        config = parse_config(slug) if slug else None
        status = submission_of(last_call(history, "scorer_status")) or SubmissionData(id="", status="unknown")
        verified = [p.verified_pgr for p in _posts(history) if p.verified_pgr is not None]
        best = max(verified, default=None)
        pgr = status.pgr
        # Only a submission that set a new ladder score has a score of its own to show as verified.
        improves = status.status == "done" and bool(status.ladder_moved) and pgr is not None
        improves = improves and (best is None or (pgr is not None and pgr >= best))
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
            "tags": [TAG, CONFIG_TAG + config.key, *config.family.split("+")] if config else [TAG],
        }
        if improves:
            post["submission_id"] = status.id
        return ("Sharing the result." if improves else "Sharing a negative result."), "forum_post", post

    @staticmethod
    def _note(history: list[Call]) -> str:
        status = submission_of(last_call(history, "scorer_status"))
        if status is None:
            return f"config {_slug(history)}: status unknown (scorer_status failed)"
        return (
            f"config {_slug(history)}: {status.status} pgr={status.pgr} flags={status.flags} (submission {status.id})"
        )


def _trials(posts: list[PostSummary]) -> list[Trial]:
    """Every configuration shared on the forum, oldest first, with its verified PGR (``None``: it did not
    raise its author's ladder, failed, was flagged, or is only claimed: someone is scoring it now)."""
    found = []
    for post in reversed(posts):
        title = post.title.removeprefix(f"{LABEL} ")
        if title == post.title:
            continue
        config = parse_config(title.removeprefix(f"{CLAIM} ").rsplit(": PGR", 1)[0])
        if config is not None:
            found.append(Trial(config, post.verified_pgr))
    return found


def _posts(history: list[Call]) -> list[PostSummary]:
    """The posts the last forum listing returned."""
    listing = last_call(history, "forum_list")
    if listing is None or listing.is_error or not isinstance(listing.data, PostsData):
        return []
    return listing.data.posts
