"""The red-team harness: submit every attack in ``attacks/`` and every prediction probe to a real scorer
as its own agent, and say what each achieved.

An attack is **blocked** when it gains nothing (an escape attempt fails with "nothing found"; a cheating
method never moves its agent's ladder), **flagged** when the scorer caught it (flags, no ladder
movement), and **SCORED** or **ESCAPED** when it beat the scorer. Used by ``test_redteam.py`` and
``bench/redteam.py`` (which prints the table).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from services.scorer.client import ScorerClient
from w2s.datasets import load_dataset, text_id
from w2s.embeddings import dataset_features
from w2s.splits import Inputs
from w2s.tasks import get_task

ATTACKS = Path(__file__).parent / "attacks"
# Attacks that look for a way out of the jail: success shows as a finished submission.
ESCAPES = {"read_packaged_data", "read_secrets_and_caches", "detect_control_by_path", "escape_privileges", "network"}


@dataclass
class Verdict:
    attack: str
    outcome: str
    status: str
    flags: list[str] = field(default_factory=list)
    pgr_shown: float | None = None
    ladder: float | None = None
    detail: str = ""


def method_source(name: str, task: str) -> str:
    """The attack's source, with what an attacker who read the old code would hard-code filled in."""
    template = (ATTACKS / f"{name}.py").read_text()
    t = get_task(task)
    filled = {
        "CLASS_SIZE = None": f"CLASS_SIZE = {len(load_dataset(t.dataset)) // 2}",
        "SIZES = None": f"SIZES = {dict(t.sizes)!r}",
    }
    for key, value in filled.items():
        template = template.replace(key, value)
    return template


def new_agent(url: str, admin_token: str, name: str) -> ScorerClient:
    with ScorerClient(url, admin_token) as admin:
        issued = admin.issue_token(f"{name}-{uuid.uuid4().hex[:6]}")
    return ScorerClient(url, issued.token)


def _ladder(client: ScorerClient, task: str, agent: str) -> float | None:
    entries = [e for e in client.leaderboard(task).entries if e.agent == agent]
    return entries[0].pgr if entries else None


def run_method_attacks(url: str, admin_token: str, task: str, names: list[str], timeout: float) -> list[Verdict]:
    """Submit each attack as a fresh agent (all at once), wait for all, and judge them."""
    submitted = []
    for name in names:
        client = new_agent(url, admin_token, name)
        submitted.append((name, client, client.submit_method(task, method_source(name, task)).id))
    verdicts = []
    for name, client, sid in submitted:
        sub = client.wait(sid, timeout=timeout)
        ladder = _ladder(client, task, sub.agent)
        shown = sub.result.pgr if sub.result else None
        if name in ESCAPES:
            outcome = "blocked" if sub.status == "failed" and "nothing found" in (sub.error or "") else "ESCAPED"
        elif ladder is not None:
            outcome = "SCORED"
        else:
            outcome = "flagged" if sub.flags else "blocked"
        detail = " | ".join((sub.error or "").splitlines())[-200:]
        verdicts.append(Verdict(name, outcome, sub.status, sub.flags, shown, ladder, detail))
        client.close()
    return verdicts


def honest_predictions(client: ScorerClient, task: str) -> dict[str, float]:
    """What an agent computes in its sandbox: a student trained on the teacher's labels, from the task
    inputs the scorer hands out (the strong features come from this machine's embedding cache)."""
    from sklearn.linear_model import LogisticRegression

    inputs = client.task_inputs(task)
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
