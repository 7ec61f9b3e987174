"""The offline researcher: a baseline policy that needs no LLM.

It plays the model's part in the same loop, with the same tools, transcript and budget as Claude. Each
experiment it:

1. reads the forum (posts tagged ``baseline-policy``) and its notebook, to see which configurations
   anyone has tried;
2. picks the first untried configuration (a built-in method family and its hyper-parameters), in an
   order set by its starting direction;
3. writes the method module into its sandbox, checks that it compiles there, submits it, and waits for
   the server's score;
4. up-votes the best verified result of another agent, posts its result (or negative result) linked to
   the submission, and notes the outcome in its notebook.

Every decision is a function of the conversation so far, so a run resumed from its transcript carries
on where it stopped. Every output says that it comes from a baseline policy.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from dataclasses import dataclass

from workers.agent.backends.base import ModelReply

LABEL = "[baseline policy]"
TAG = "baseline-policy"
CONFIG_TAG = "cfg."
MODEL = "offline-baseline"

KNN = '''
def knn_smooth(ctx, k):
    """Each weak label becomes the mean weak label of its k nearest neighbours in the strong embedding."""
    x = ctx.features(ctx.transfer)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    weak, out = ctx.weak_labels, np.empty(len(ctx.weak_labels))
    for start in range(0, len(x), 1024):
        sims = x[start : start + 1024] @ x.T
        out[start : start + 1024] = weak[np.argpartition(-sims, k, axis=1)[:, : k + 1]].mean(axis=1)
    return out
'''
CONFIDENT = '''
def confident_subset(labels, keep):
    """Indices of the most confident fraction ``keep`` of each predicted class."""
    confidence, chosen = np.abs(labels - 0.5), []
    for positive in (False, True):
        members = np.flatnonzero((labels > 0.5) == positive)
        ranked = members[np.argsort(-confidence[members], kind="stable")]
        chosen.extend(ranked[: max(1, int(len(ranked) * keep))].tolist())
    return np.sort(np.array(chosen))
'''

BODIES = {
    "vanilla": 'return ctx.train_student(loss="xent").predict_proba(ctx.targets)',
    "hard": 'return ctx.train_student(loss="hard").predict_proba(ctx.targets)',
    "confident": "keep = confident_subset(ctx.weak_labels, {keep})\n"
    '    student = ctx.train_student(ctx.transfer.take(keep), ctx.weak_labels[keep], loss="hard")\n'
    "    return student.predict_proba(ctx.targets)",
    "logconf": "loss = LogConf(aux_coef={aux}, warmup_frac={warmup})\n"
    "    return ctx.train_student(loss=loss).predict_proba(ctx.targets)",
    "bootstrap": "student, targets = ctx.train_student(), ctx.weak_labels\n"
    "    for _ in range({rounds}):\n"
    "        own = (student.predict_proba(ctx.transfer) > 0.5).astype(float)\n"
    "        student = ctx.train_student(targets=(1 - {mix}) * ctx.weak_labels + {mix} * own)\n"
    "    return student.predict_proba(ctx.targets)",
    "consistency": "return ctx.train_student(targets=knn_smooth(ctx, {k})).predict_proba(ctx.targets)",
    "consistency-confident": "smoothed = knn_smooth(ctx, {k})\n"
    "    keep = confident_subset(smoothed, {keep})\n"
    '    student = ctx.train_student(ctx.transfer.take(keep), smoothed[keep], loss="hard")\n'
    "    return student.predict_proba(ctx.targets)",
    "consistency-logconf": "loss = LogConf(aux_coef={aux}, warmup_frac=0.2)\n"
    "    student = ctx.train_student(targets=knn_smooth(ctx, {k}), loss=loss)\n"
    "    return student.predict_proba(ctx.targets)",
}

GRID: dict[str, list[dict]] = {
    "vanilla": [{}],
    "hard": [{}],
    "confident": [{"keep": k} for k in (0.5, 0.3, 0.7)],
    "logconf": [{"aux": a, "warmup": w} for a in (0.5, 0.25, 0.75) for w in (0.2, 0.1)],
    "bootstrap": [{"rounds": r, "mix": m} for r in (2, 1, 3) for m in (0.5, 0.3)],
    "consistency": [{"k": k} for k in (15, 5, 30)],
    "consistency-confident": [{"k": k, "keep": p} for k in (15, 30) for p in (0.5, 0.7)],
    "consistency-logconf": [{"k": k, "aux": a} for k in (15, 30) for a in (0.5, 0.25)],
}

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


@dataclass(frozen=True)
class Config:
    family: str
    params: tuple[tuple[str, float], ...]

    @property
    def slug(self) -> str:
        return "-".join([self.family, *(f"{k}{v:g}" for k, v in self.params)])

    @property
    def tag(self) -> str:
        return CONFIG_TAG + self.slug

    def source(self) -> str:
        """The method module this configuration stands for."""
        body = BODIES[self.family].format(**dict(self.params))
        helpers = (KNN if "knn_smooth" in body else "") + (CONFIDENT if "confident_subset" in body else "")
        header = f'"""{LABEL} {self.slug}: written by the offline researcher (no LLM)."""\n\nimport numpy as np\n'
        header += "from w2s.losses import LogConf\n" if "LogConf" in body else ""
        return f"{header}{helpers}\n\ndef run(ctx):\n    {body}\n"


def all_configs() -> list[Config]:
    return [Config(f, tuple(sorted(p.items()))) for f, grid in GRID.items() for p in grid]


def ordered_configs(direction: str, seed: int) -> list[Config]:
    """Every configuration, the direction's preferred families first (shuffled for evolutionary search)."""
    configs = all_configs()
    text = direction.lower()
    if "evolution" in text:
        random.Random(seed).shuffle(configs)
        return configs
    preferred = [f for key, families in PREFERENCES.items() if key in text for f in families]
    rank = {f: i for i, f in enumerate(dict.fromkeys(preferred))}
    return sorted(configs, key=lambda c: rank.get(c.family, len(rank)))


def tool_history(messages: list[dict]) -> list[tuple[dict, str, bool]]:
    """(tool_use block, result text, is_error) of every answered tool call, in order."""
    results = {
        b["tool_use_id"]: (b["content"] if isinstance(b["content"], str) else json.dumps(b["content"]), b["is_error"])
        for m in messages
        if m["role"] == "user" and isinstance(m["content"], list)
        for b in m["content"]
        if b.get("type") == "tool_result"
    }
    return [
        (b, *results[b["id"]])
        for m in messages
        if m["role"] == "assistant"
        for b in m["content"]
        if b.get("type") == "tool_use" and b["id"] in results
    ]


def _last(history, name: str):
    return next(((b, text, err) for b, text, err in reversed(history) if b["name"] == name), None)


def _json(text: str):
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return None


class OfflineResearcher:
    """A ``ModelBackend`` whose replies are the baseline policy's next tool call."""

    name = "offline"
    model = MODEL

    def __init__(self, agent: str, direction: str = "", seed: int = 0, max_experiments: int = 3, wait_s: float = 1800):
        self.agent, self.direction, self.seed = agent, direction, seed
        self.max_experiments, self.wait_s = max_experiments, wait_s

    def complete(self, system: str, messages: list[dict], tools: list[dict]) -> ModelReply:
        step = self.decide(messages)
        if step is None:
            return self._reply([{"type": "text", "text": f"{LABEL} I have nothing left to try; stopping."}], "end_turn")
        say, tool, arguments = step
        call = {"type": "tool_use", "id": f"toolu_offline_{uuid.uuid4().hex[:16]}", "name": tool, "input": arguments}
        return self._reply([{"type": "text", "text": f"{LABEL} {say}"}, call], "tool_use")

    @staticmethod
    def _reply(content: list[dict], stop: str) -> ModelReply:
        return ModelReply(content=content, stop_reason=stop, model=MODEL, request_id=None)

    # --- the policy --------------------------------------------------------------------------------

    def decide(self, messages: list[dict]) -> tuple[str, str, dict] | None:
        """The next (explanation, tool, input), or ``None`` to stop."""
        history = tool_history(messages)
        if not history:
            return "Reading what others have tried.", "forum_list", {"tag": TAG, "limit": 100}
        last, text, is_error = history[-1]
        name = last["name"]
        if name == "forum_list":
            return "Reading my notebook.", "notebook_read", {}
        if name == "notebook_read":
            return self._choose(history, text)
        if name == "write_file":
            path = last["input"]["path"]
            return (
                "Checking that the method compiles in my sandbox.",
                "bash",
                {"command": f"python3 -m py_compile {path} && echo compiled", "timeout_s": 60},
            )
        if name == "bash":
            path = _last(history, "write_file")[0]["input"]["path"]
            if is_error or not text.startswith("exit code 0"):
                return (
                    "The method did not compile; noting it.",
                    "notebook_append",
                    {"text": f"config {_slug(path)}: did not compile\n{text[:500]}"},
                )
            return "Submitting it to the scorer.", "scorer_submit_method", {"path": path}
        if name == "scorer_submit_method":
            slug = _slug(_last(history, "write_file")[0]["input"]["path"])
            if is_error:
                return (
                    "The scorer refused the submission; noting it.",
                    "notebook_append",
                    {"text": f"config {slug}: submission refused: {text[:300]}"},
                )
            return (
                "Waiting for the server's score.",
                "scorer_status",
                {"submission_id": _json(text)["id"], "wait_s": self.wait_s},
            )
        if name == "scorer_status":
            status = _json(text) or {}
            if not is_error and status.get("status") in ("queued", "running"):
                return (
                    "Still scoring; waiting again.",
                    "scorer_status",
                    {"submission_id": status["id"], "wait_s": self.wait_s},
                )
            return self._vote_or_post(history)
        if name == "forum_vote":
            return self._post(history)
        if name == "forum_post":
            return "Noting the outcome in my notebook.", "notebook_append", {"text": self._note(history)}
        if name == "notebook_append":
            if "submission refused" in last["input"]["text"]:
                return None
            return "Reading what others have tried since.", "forum_list", {"tag": TAG, "limit": 100}
        return "Reading what others have tried.", "forum_list", {"tag": TAG, "limit": 100}  # after any other tool

    def _choose(self, history, notebook: str) -> tuple[str, str, dict] | None:
        mine = set(re.findall(r"^config (\S+):", notebook, flags=re.M))
        if len(mine) >= self.max_experiments:
            return None
        tagged = {t for p in self._posts(history) for t in p["tags"] if t.startswith(CONFIG_TAG)}
        tried = mine | {t.removeprefix(CONFIG_TAG) for t in tagged}
        config = next((c for c in ordered_configs(self.direction, self.seed) if c.slug not in tried), None)
        if config is None:
            return None
        return (
            f"Nobody has tried {config.slug} yet; writing it as a method.",
            "write_file",
            {"path": f"methods/{config.slug}.py", "content": config.source()},
        )

    @staticmethod
    def _posts(history) -> list[dict]:
        found = _last(history, "forum_list")
        page = _json(found[1]) if found and not found[2] else None
        return page.get("data", []) if isinstance(page, dict) else []

    def _vote_or_post(self, history):
        voted = {b["input"]["post_id"] for b, _, _ in history if b["name"] == "forum_vote"}
        others = [
            p
            for p in self._posts(history)
            if p.get("verified")
            and p["verified"].get("pgr") is not None
            and p["author"] != self.agent
            and p["id"] not in voted
        ]
        if others:
            best = max(others, key=lambda p: p["verified"]["pgr"])
            return (
                f"Up-voting the best verified result so far ({best['title']}).",
                "forum_vote",
                {"post_id": best["id"], "value": 1},
            )
        return self._post(history)

    def _post(self, history):
        slug = _slug(_last(history, "write_file")[0]["input"]["path"])
        status = _json(_last(history, "scorer_status")[1]) or {}
        best = max(
            (
                p["verified"]["pgr"]
                for p in self._posts(history)
                if p.get("verified") and p["verified"].get("pgr") is not None
            ),
            default=None,
        )
        pgr = status.get("pgr")
        done = status.get("status") == "done"
        # Only a submission that set a new ladder score has a score of its own to show as verified.
        improves = done and bool(status.get("ladder_moved")) and pgr is not None and (best is None or pgr >= best)
        body = (
            f"Configuration `{slug}` (offline researcher, a **baseline policy**: no LLM).\n\n"
            f"Status: {status.get('status')}; ladder PGR {pgr}; "
            f"flags {status.get('flags') or 'none'}."
            + (f"\n\nError: {status.get('error')}" if status.get("error") else "")
            + ("" if best is None else f"\n\nBest verified PGR among baseline-policy posts before this: {best}.")
        )
        post = {
            "type": "result" if improves else "negative-result",
            "title": f"{LABEL} {slug}: PGR {pgr if pgr is not None else 'n/a'}",
            "body": body,
            "tags": [TAG, CONFIG_TAG + slug, slug.split("-")[0]],
        }
        if improves:
            post["submission_id"] = status["id"]
        return ("Sharing the result." if improves else "Sharing a negative result."), "forum_post", post

    @staticmethod
    def _note(history) -> str:
        slug = _slug(_last(history, "write_file")[0]["input"]["path"])
        status = _json(_last(history, "scorer_status")[1]) or {}
        return (
            f"config {slug}: {status.get('status')} pgr={status.get('pgr')} "
            f"flags={status.get('flags')} (submission {status.get('id')})"
        )


def _slug(path: str) -> str:
    return path.rsplit("/", 1)[-1].removesuffix(".py")
