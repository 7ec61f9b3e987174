"""Test data for the dashboard: predictions of a chosen accuracy, campaign folders and transcripts."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from pathlib import Path

from w2s.tasks import TASKS
from workers.agent.budget import Limits, TokenUsage, Usage
from workers.agent.campaign.plan import AgentPlan, CampaignPlan
from workers.agent.transcript import Transcript

# A method: only verified method submissions rank on the leaderboard (prediction submissions never do).
VANILLA = "def run(ctx):\n    return ctx.train_student().predict_proba(ctx.targets)\n"


def predictions(accuracy: float, salt: str = "", task: str = "rt-polarity") -> dict[str, float]:
    """P(class 1) for every test_public item, right on about ``accuracy`` of them (tests know the labels; this
    stands in for an agent's method, so the screenshot shows realistic PGRs)."""
    split = TASKS[task].splits["test_public"]
    out = {}
    for item, label in zip(split.inputs.ids, split.labels, strict=True):
        right = int(hashlib.sha256(f"{salt}{item}".encode()).hexdigest(), 16) % 10_000 < accuracy * 10_000
        out[item] = 0.8 if (label == 1) == right else 0.2
    return out


def write_campaign(
    home: Path, campaign_id: str, agents: int, started_s_ago: float = 0.0, task: str = "rt-polarity"
) -> CampaignPlan:
    """A saved campaign plan (no process), as ``aar campaign run`` leaves one."""
    plan = CampaignPlan(
        id=campaign_id,
        task=task,
        backend="anthropic",
        model="claude-opus-4-6",
        agents=[
            AgentPlan(name=f"{campaign_id}-r{i + 1}", direction=f"direction {i + 1}: try idea {i + 1}", seed=i)
            for i in range(agents)
        ],
        agent_limits=Limits(),
        campaign_limits=Limits(),
        created_at=time.time() - started_s_ago,
    )
    plan.save(home / "campaigns" / campaign_id)
    return plan


def write_transcript(
    home: Path, plan: CampaignPlan, agent: str, steps: int, usd_per_call: float = 0.1, end: str | None = None
) -> Path:
    """A transcript with ``steps`` model calls, each followed by one tool call and its result, with running
    totals as the loop writes them, its records spread from the campaign's start until now."""
    path = home / "campaigns" / plan.id / "transcripts" / f"{agent}.jsonl"
    transcript = Transcript(path)
    usage = Usage()
    records = 3 + 3 * steps + bool(end)
    moments = iter(plan.created_at + (time.time() - plan.created_at) * i / records for i in range(records))

    def write(type: str, **fields) -> None:
        transcript.write(type, at=_iso(next(moments)), **fields)

    write("agent_start", agent=agent, backend=plan.backend, model=plan.model, resumed=False)
    transcript.session = 1
    write("session_start", reason=None)
    write("user", content=[{"type": "text", "text": "Start: read the forum, then your notebook."}])
    for step in range(steps):
        tokens = TokenUsage(input_tokens=1200, output_tokens=300, cache_read_input_tokens=9000)
        usage.add_call(tokens, usd_per_call)
        call = {"type": "tool_use", "id": f"toolu_{step}", "name": "bash", "input": {"command": f"python exp{step}.py"}}
        write(
            "model_call",
            model=plan.model,
            stop_reason="tool_use",
            usage=tokens.model_dump(),
            cost_usd=usd_per_call,
            latency_s=2.5,
            content=[{"type": "text", "text": f"Step {step}: try a variant."}, call],
            totals=usage.model_dump(),
        )
        write("tool_call", id=call["id"], name="bash", input=call["input"])
        usage.tool_calls += 1
        write(
            "tool_result",
            id=call["id"],
            name="bash",
            is_error=step % 5 == 4,
            content=f"accuracy 0.7{step % 10}\n",
            duration_s=1.25,
            totals=usage.model_dump(),
        )
    if end:
        write("agent_end", reason=end, totals=usage.model_dump())
    transcript.close()
    return path


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()
