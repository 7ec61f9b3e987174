"""The red-team harness: replay every case of the corpus (``cases/``) and every prediction probe against a
real scorer, each as its own agent, and say what each achieved.

A case is ``cases/<name>.py`` (the method, with placeholders the harness fills in: what an attacker who
read the code or downloaded the public corpus would hard-code) and ``cases/<name>.json``
(``services.scorer.corpus.CaseMeta``): the task, what success looks like (``success``), the flags it must
get, a description and where it came from. Success:

- ``finished``: an escape (it finishes only when it found something): blocked when it fails with
  ``blocked_error`` (default "nothing found") in its error;
- ``found``: a cross-run channel (a run that finds another run's marks fails with "found: …"): blocked
  when the submission finishes;
- ``scored``: a cheating method: blocked or flagged when it never reaches the ladder;
- ``unflagged``: a hacker's finding (``aar scorer redteam export``): replayed by a hacker, blocked or
  flagged when the scorer raises any flag on it (admin-only ones included). An ``open`` finding is one
  not fixed yet: the suite expects it to get through (UNFLAGGED) until its fix flips ``open``.

Every case must also get the flags it expects and an error of at most 300 characters. Verdicts:
**blocked**, **flagged**, or ESCAPED / SCORED / UNFLAGGED / LEAKED / ERRORED when the scorer lost.
Used by ``test_redteam.py`` and ``bench/redteam.py`` (which prints the table).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from services.scorer.client import ScorerClient
from services.scorer.corpus import CaseMeta, read_meta
from w2s.datasets import load_dataset, text_id
from w2s.embeddings import dataset_features
from w2s.splits import Inputs
from w2s.tasks import get_task

CASES = Path(__file__).parent / "cases"
ERROR_CHARS = 300


@dataclass
class Verdict:
    attack: str
    outcome: str
    status: str
    flags: list[str] = field(default_factory=list)
    pgr_shown: float | None = None
    ladder: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class Case:
    name: str
    source: str
    meta: CaseMeta

    @property
    def task(self) -> str:
        return self.meta.task


def case_names(folder: Path = CASES) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_"))


def _packed(pairs: list[tuple[str, int]]) -> str:
    """Six hex digits of sha1(text) and a 0/1 per item: how the cases carry labels."""
    return "".join(hashlib.sha1(text.encode()).hexdigest()[:6] + str(int(label)) for text, label in pairs)


def load_case(
    name: str, reference: dict[str, float] | None = None, task: str | None = None, folder: Path = CASES
) -> Case:
    """The case's source with its placeholders filled in. ``reference``: transfer text → the weak label
    ``/v1/tasks/*/inputs`` hands out (for cases that fill ``REFERENCE``); ``task``: whose dataset fills
    ``LABELS`` (the case's own task by default)."""
    meta = read_meta(folder, name)
    template = (folder / f"{name}.py").read_text()
    if meta.success == "unflagged":  # a finding is replayed exactly as the hacker submitted it
        return Case(name, template, meta)
    dataset = load_dataset(get_task(task or meta.task).dataset)
    filled = {
        "CLASS_SIZE = None": f"CLASS_SIZE = {len(dataset) // 2}",
        "SIZES = None": f"SIZES = {dict(get_task(task or meta.task).sizes)!r}",
    }
    if "LABELS" in meta.fill:
        filled["LABELS = None"] = f"LABELS = {_packed([(e.text, e.label) for e in dataset.examples])!r}"
    if "REFERENCE" in meta.fill:
        if reference is None:
            raise ValueError(f"case {name} needs the reference teacher")
        filled["REFERENCE = None"] = f"REFERENCE = {_packed([(t, p > 0.5) for t, p in reference.items()])!r}"
    for key, value in filled.items():
        template = template.replace(key, value)
    return Case(name, template, meta)


def new_agent(url: str, admin_token: str, name: str, role: str = "researcher") -> ScorerClient:
    with ScorerClient(url, admin_token) as admin:
        issued = admin.issue_token(f"{name}-{uuid.uuid4().hex[:6]}"[:64], role)  # type: ignore[arg-type]
    return ScorerClient(url, issued.token)


def _ladder(client: ScorerClient, task: str, agent: str) -> float | None:
    entries = [e for e in client.leaderboard(task).entries if e.agent == agent]
    return entries[0].pgr if entries else None


def judge(case: Case, status: str, error: str, flags: list[str], ladder: float | None) -> str:
    """The verdict on one case (see the module's docstring)."""
    success = case.meta.success
    if len(error) > ERROR_CHARS:
        return "LEAKED"
    if success == "unflagged":  # ``flags``: every flag, the admin-only ones included
        if status != "done":
            return "blocked"
        return "flagged" if flags else "UNFLAGGED"
    if success == "finished":
        if status == "done":
            return "ESCAPED"
        outcome = "blocked" if (case.meta.blocked_error or "nothing found") in error else "ERRORED"
    elif success == "found":
        if "found:" in error:
            return "ESCAPED"
        outcome = "blocked" if status == "done" else "ERRORED"
    else:
        if ladder is not None:
            return "SCORED"
        outcome = "flagged" if flags else "blocked"
    if not set(case.meta.flags) <= set(flags):
        return "UNFLAGGED"
    return outcome


def run_method_attacks(
    url: str, admin_token: str, names: list[str], timeout: float, folder: Path = CASES
) -> list[Verdict]:
    """Submit each case as a fresh agent (all at once), wait for all, and judge them. A finding is replayed
    by a hacker and judged on every flag the scorer raised (``/v1/admin/attacks``)."""
    submitted = []
    for name in names:
        meta = read_meta(folder, name)
        client = new_agent(url, admin_token, name, "hacker" if meta.success == "unflagged" else "researcher")
        reference = None
        if "REFERENCE" in meta.fill:
            inputs = client.task_inputs(meta.task, timeout=1800)  # a cold task embeds its dataset first
            reference = {i.text: i.weak_label for i in inputs.transfer}
        case = load_case(name, reference, folder=folder)
        submitted.append((case, client, client.submit_method(case.task, case.source).id))
    verdicts = []
    with ScorerClient(url, admin_token) as admin:
        for case, client, sid in submitted:
            sub = client.wait(sid, timeout=timeout)
            ladder = _ladder(client, case.task, sub.agent)
            flags = sub.flags
            if case.meta.success == "unflagged":
                flags = next(a.flags for a in admin.attacks(agent=sub.agent).data if a.submission_id == sid)
            shown = sub.result.pgr if sub.result else None
            error = sub.error or ""
            outcome = judge(case, sub.status, error, flags, ladder)
            detail = " | ".join(error.splitlines())[-200:]
            verdicts.append(Verdict(case.name, outcome, sub.status, flags, shown, ladder, detail))
            client.close()
    return verdicts


def honest_predictions(client: ScorerClient, task: str) -> dict[str, float]:
    """What an agent computes in its sandbox: a student trained on the teacher's labels, from the task
    inputs the scorer hands out (the strong features come from this machine's embedding cache)."""
    from sklearn.linear_model import LogisticRegression

    inputs = client.task_inputs(task, timeout=1800)
    table = dataset_features(load_dataset(get_task(task).dataset), "minilm")

    def rows(items) -> np.ndarray:
        return table.rows(Inputs(tuple(text_id(i.text) for i in items), ()))

    weak = np.array([i.weak_label for i in inputs.transfer]) > 0.5
    model = LogisticRegression(max_iter=1000).fit(rows(inputs.transfer), weak)
    probs = model.predict_proba(rows(inputs.test_public))[:, 1]
    return {item.id: float(p) for item, p in zip(inputs.test_public, probs, strict=True)}


def run_probe(
    url: str, admin_token: str, task: str, name: str, flips: int, rounds: int, timeout: float
) -> tuple[Verdict, list]:
    """Submit honest predictions, then ``rounds`` variants that each flip ``flips`` other items of them.
    Blocked or flagged when no variant moves the agent's (predictions) ladder."""
    client = new_agent(url, admin_token, name)
    base = honest_predictions(client, task)
    first = client.wait(client.submit_predictions(task, base).id, timeout=timeout)
    rng = np.random.default_rng(7)
    ids = list(base)
    probes = []
    for _ in range(rounds):
        chosen = rng.choice(len(ids), size=flips, replace=False)
        variant = dict(base, **{ids[k]: 1.0 - base[ids[k]] for k in chosen})
        probes.append(client.wait(client.submit_predictions(task, variant).id, timeout=timeout))
    flagged = [p for p in probes if p.flags]
    moved = any(p.result and p.result.ladder_moved for p in probes)
    outcome = "SCORED" if moved else "flagged" if flagged else "blocked"
    shown = probes[-1].result.pgr if probes[-1].result else None
    base_pgr = first.result.pgr if first.result else None
    detail = f"{len(flagged)}/{rounds} probes flagged; the honest base was shown PGR {base_pgr}"
    flags = sorted({f for p in probes for f in p.flags})
    client.close()
    return Verdict(name, outcome, probes[-1].status, flags, shown, None, detail), [first, *probes]


def table(verdicts: list[Verdict]) -> str:
    """A plain-text table: attack → verdict → what the agent was shown."""
    lines = [f"{'attack':<28} {'verdict':<8} {'status':<7} {'flags':<36} {'pgr shown':>9}  detail"]
    for v in verdicts:
        shown = "-" if v.pgr_shown is None else f"{v.pgr_shown:.2f}"
        lines.append(
            f"{v.attack:<28} {v.outcome:<8} {v.status:<7} {','.join(v.flags) or '-':<36} {shown:>9}  {v.detail}"
        )
    return "\n".join(lines)
