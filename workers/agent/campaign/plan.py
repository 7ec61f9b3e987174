"""A campaign's plan, saved as ``campaign.json`` in its folder: who runs, on what, with which budgets.

Secrets are not in it: tokens are issued again on every start or resume, and the API key stays in the
environment.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from sandbox.base import Endpoint
from workers.agent.budget import Limits

BUDGET_KEYS = {
    "usd": ("max_usd", float, 1.0),
    "tokens": ("max_tokens", float, 1.0),
    "hours": ("max_wall_s", float, 3600.0),
    "minutes": ("max_wall_s", float, 60.0),
    "working_hours": ("max_working_s", float, 3600.0),
    "tool_calls": ("max_tool_calls", float, 1.0),
    "model_calls": ("max_model_calls", float, 1.0),
}


# Each agent's budget when ``--budget`` does not say otherwise (see docs/agents.md); ``key=none`` lifts one.
DEFAULT_AGENT_BUDGET = "tool_calls=2000,tokens=50e6,hours=24"


def parse_budget(text: str | None, defaults: str | None = None) -> Limits:
    """``"usd=20,hours=2,tokens=5e6,tool_calls=500"`` → ``Limits``, over ``defaults`` (same form); a key set to
    ``none`` is unlimited, and so is every key neither names."""
    fields: dict[str, float | None] = {}
    for part in filter(None, (p.strip() for p in f"{defaults or ''},{text or ''}".split(","))):
        key, sep, value = part.partition("=")
        if not sep or key.strip() not in BUDGET_KEYS:
            raise ValueError(f"bad budget item {part!r}: use key=value with keys {', '.join(BUDGET_KEYS)}")
        name, kind, scale = BUDGET_KEYS[key.strip()]
        if value.strip().lower() == "none":
            fields[name] = None
            continue
        try:
            number = kind(value) * scale
        except ValueError:
            raise ValueError(f"bad budget value in {part!r}: not a number") from None
        if not number > 0:
            raise ValueError(f"budget {key} must be positive")
        if number == float("inf"):
            raise ValueError(f"budget {key} must be finite (use {key}=none for no limit)")
        fields[name] = int(number) if name in ("max_tokens", "max_tool_calls", "max_model_calls") else number
    return Limits(**fields)


class AgentPlan(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    direction: str
    seed: int
    role: Literal["researcher", "hacker"] = "researcher"


class CampaignPlan(BaseModel):
    id: str
    task: str
    agents: list[AgentPlan]
    backend: str
    model: str
    agent_limits: Limits
    campaign_limits: Limits
    sandbox: str = "bwrap"
    sandbox_allow: list[Endpoint] = Field(
        default_factory=list, description="services the sandboxes may reach (default: no network at all)"
    )
    offline_experiments: int = Field(3, ge=1)
    baseline: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="the id of an offline campaign on the same task that the report compares with (None: the newest)",
    )
    scorer_url: str | None = Field(None, description="None: start the embedded services locally")
    forum_url: str | None = None
    created_at: float = Field(default_factory=time.time)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "campaign.json").write_text(self.model_dump_json(indent=2))

    @classmethod
    def load(cls, folder: Path) -> CampaignPlan:
        path = folder / "campaign.json"
        if not path.exists():
            raise FileNotFoundError(f"no campaign at {folder} (campaign.json missing)")
        return cls.model_validate_json(path.read_text())


def parse_endpoints(text: str | None) -> list[Endpoint]:
    """``"scorer=aar-scorer-api:8100,forum=aar-forum:8200"`` → endpoints (name inside the sandbox = host:port)."""
    endpoints = []
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        name, sep, target = part.partition("=")
        host, colon, port = target.rpartition(":")
        if not (sep and colon and port.isdigit()):
            raise ValueError(f"bad endpoint {part!r}: use name=host:port")
        endpoints.append(Endpoint(name=name.strip(), host=host, port=int(port)))
    return endpoints


def new_campaign_id() -> str:
    """Short, sortable and unique: ``c<MMDDHHMM><4 hex>``."""
    return f"c{datetime.now(UTC).strftime('%m%d%H%M')}{secrets.token_hex(2)}"


def build_plan(
    *,
    settings,
    task: str,
    directions: list[str],
    hackers: int = 0,
    backend: str | None = None,
    model: str | None = None,
    budget: str | None = None,
    campaign_budget: str | None = None,
    sandbox: str = "bwrap",
    sandbox_allow: str | None = None,
    experiments: int = 3,
    scorer_url: str | None = None,
    forum_url: str | None = None,
    baseline: str | None = None,
) -> CampaignPlan:
    """A new campaign's plan from user input (``settings``: the agent settings to start from).

    Raises ``ValueError`` naming the problem: a bad budget or endpoint, or a model with no price.
    """
    from workers.agent.budget import PriceTable

    chosen = settings.model_copy(update={k: v for k, v in {"backend": backend, "model": model}.items() if v})
    resolved = chosen.resolved_backend()
    model_name = chosen.model if resolved != "offline" else "offline-baseline"
    try:
        PriceTable.load(chosen.price_table).price(model_name)
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None
    campaign_id = new_campaign_id()
    return CampaignPlan(
        id=campaign_id,
        task=task,
        agents=plan_agents(campaign_id, directions, hackers),
        backend=resolved,
        model=model_name,
        agent_limits=parse_budget(budget, DEFAULT_AGENT_BUDGET),
        campaign_limits=parse_budget(campaign_budget),
        sandbox=sandbox,
        sandbox_allow=parse_endpoints(sandbox_allow),
        offline_experiments=experiments,
        baseline=baseline,
        scorer_url=scorer_url,
        forum_url=forum_url,
    )


def plan_agents(campaign_id: str, directions: list[str], hackers: int = 0) -> list[AgentPlan]:
    """One researcher per direction, named ``<campaign>-r<i>`` so names never collide across campaigns, and
    ``hackers`` hackers (``<campaign>-h<i>``), each with a hacker direction."""
    from workers.agent.prompts import HACKER_DIRECTIONS

    researchers = [AgentPlan(name=f"{campaign_id}-r{i + 1}", direction=d, seed=i) for i, d in enumerate(directions)]
    return researchers + [
        AgentPlan(
            name=f"{campaign_id}-h{i + 1}",
            direction=HACKER_DIRECTIONS[i % len(HACKER_DIRECTIONS)],
            seed=i,  # the offline hacker's first attack: each hacker starts on another
            role="hacker",
        )
        for i in range(hackers)
    ]
