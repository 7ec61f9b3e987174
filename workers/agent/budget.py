"""Usage, prices and budgets, per agent and per campaign.

Budgets (and the stop flag) are checked before and after every model call and before every tool call;
a running tool gets no more time than the wall-clock and working-time budgets leave. Prices are USD
per million tokens, from a built-in table that ``AAR_PRICE_TABLE`` (a JSON file of the same shape) extends or overrides.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from pydantic import BaseModel, Field

DEFAULT_PRICES: dict[str, dict[str, float]] = {
    # USD per million tokens; cache writes are 5-minute writes (1.25x input), cache reads 0.1x input.
    "claude-opus-4-6": {"input": 5.0, "output": 25.0, "cache_write": 6.25, "cache_read": 0.50},
    "claude-opus-4-5": {"input": 5.0, "output": 25.0, "cache_write": 6.25, "cache_read": 0.50},
    "claude-sonnet-4-5": {"input": 3.0, "output": 15.0, "cache_write": 3.75, "cache_read": 0.30},
    "claude-haiku-4-5": {"input": 1.0, "output": 5.0, "cache_write": 1.25, "cache_read": 0.10},
    "offline-baseline": {"input": 0.0, "output": 0.0, "cache_write": 0.0, "cache_read": 0.0},
    "offline-hacker": {"input": 0.0, "output": 0.0, "cache_write": 0.0, "cache_read": 0.0},
}


class Price(BaseModel):
    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write: float = Field(ge=0)
    cache_read: float = Field(ge=0)


class PriceTable:
    """Model name → price; a ``"*"`` entry prices every model not listed."""

    def __init__(self, prices: dict[str, dict[str, float]]):
        self.prices = {name: Price(**p) for name, p in prices.items()}

    @classmethod
    def load(cls, path: Path | None = None) -> PriceTable:
        """The built-in table, extended by the JSON file at ``path`` when given."""
        prices = dict(DEFAULT_PRICES)
        if path is not None:
            try:
                prices |= json.loads(Path(path).read_text())
            except (OSError, ValueError) as exc:
                raise ValueError(f"cannot read the price table {path}: {exc}") from exc
        return cls(prices)

    def price(self, model: str) -> Price:
        """The model's price; ``KeyError`` naming the fix when it is unknown."""
        if model in self.prices:
            return self.prices[model]
        if "*" in self.prices:
            return self.prices["*"]
        raise KeyError(f"no price for model {model!r}: add it (or a '*' entry) to the JSON file in AAR_PRICE_TABLE")

    def cost(self, model: str, usage: TokenUsage) -> float:
        p = self.price(model)
        return (
            usage.input_tokens * p.input
            + usage.output_tokens * p.output
            + usage.cache_creation_input_tokens * p.cache_write
            + usage.cache_read_input_tokens * p.cache_read
        ) / 1e6


class TokenUsage(BaseModel):
    """Token counts of one model call, as the Messages API reports them."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens

    @property
    def context(self) -> int:
        """Tokens of the prompt the model saw (for context management)."""
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens


class Usage(BaseModel):
    """Running totals of one agent (or a whole campaign)."""

    tokens: TokenUsage = TokenUsage()
    cost_usd: float = 0.0
    model_calls: int = 0
    tool_calls: int = 0
    working_s: float = 0.0

    def add_call(self, usage: TokenUsage, cost_usd: float) -> None:
        """Count one model call."""
        self.tokens = _sum_tokens(self.tokens, usage)
        self.cost_usd += cost_usd
        self.model_calls += 1

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            tokens=_sum_tokens(self.tokens, other.tokens),
            cost_usd=self.cost_usd + other.cost_usd,
            model_calls=self.model_calls + other.model_calls,
            tool_calls=self.tool_calls + other.tool_calls,
            working_s=self.working_s + other.working_s,
        )


def _sum_tokens(a: TokenUsage, b: TokenUsage) -> TokenUsage:
    return TokenUsage(**{k: getattr(a, k) + getattr(b, k) for k in TokenUsage.model_fields})


class Limits(BaseModel):
    """Budget limits; ``None`` means unlimited."""

    max_tokens: int | None = Field(None, ge=1, description="all tokens, cache reads and writes included")
    max_usd: float | None = Field(None, gt=0)
    max_wall_s: float | None = Field(None, gt=0, description="since the agent (or campaign) first started")
    max_working_s: float | None = Field(None, gt=0, description="time spent running, summed over resumes")
    max_tool_calls: int | None = Field(None, ge=1)
    max_model_calls: int | None = Field(None, ge=1)

    def exceeded(self, usage: Usage, wall_s: float) -> str | None:
        """The first limit reached, as a sentence, or ``None``."""
        checks = [
            (self.max_tokens, usage.tokens.total, "tokens"),
            (self.max_usd, usage.cost_usd, "dollars"),
            (self.max_wall_s, wall_s, "wall-clock seconds"),
            (self.max_working_s, usage.working_s, "working seconds"),
            (self.max_tool_calls, usage.tool_calls, "tool calls"),
            (self.max_model_calls, usage.model_calls, "model calls"),
        ]
        for limit, value, what in checks:
            if limit is not None and value >= limit:
                return f"budget exhausted: {value:,.4g} of {limit:,.4g} {what}"
        return None


class CampaignLedger:
    """Usage of every agent of a campaign, shared between their threads under a lock."""

    def __init__(self, limits: Limits, started_at: float | None = None):
        self.limits = limits
        self.started_at = started_at or time.time()
        self.agents: dict[str, Usage] = {}
        self._lock = threading.Lock()

    def register(self, agent: str, usage: Usage) -> None:
        with self._lock:
            self.agents[agent] = usage

    def total(self) -> Usage:
        with self._lock:
            return sum(self.agents.values(), Usage())

    def exceeded(self) -> str | None:
        reason = self.limits.exceeded(self.total(), time.time() - self.started_at)
        return f"campaign {reason}" if reason else None

    def seconds_left(self) -> float | None:
        """Time left before the campaign's wall-clock or working-time limit, or ``None``."""
        left = [
            self.limits.max_wall_s - (time.time() - self.started_at) if self.limits.max_wall_s else None,
            self.limits.max_working_s - self.total().working_s if self.limits.max_working_s else None,
        ]
        known = [x for x in left if x is not None]
        return min(known) if known else None


class Budget:
    """One agent's usage, its own limits and (optionally) the campaign's."""

    def __init__(
        self,
        limits: Limits,
        usage: Usage | None = None,
        started_at: float | None = None,
        campaign: CampaignLedger | None = None,
        agent: str = "agent",
    ):
        self.limits = limits
        self.usage = usage or Usage()
        self.started_at = started_at or time.time()
        self.campaign = campaign
        if campaign is not None:
            campaign.register(agent, self.usage)

    @property
    def wall_s(self) -> float:
        return time.time() - self.started_at

    def exceeded(self) -> str | None:
        """Why the agent must stop now (its own limits first, then the campaign's), or ``None``."""
        reason = self.limits.exceeded(self.usage, self.wall_s)
        if reason is None and self.campaign is not None:
            reason = self.campaign.exceeded()
        return reason

    def seconds_left(self) -> float | None:
        """How long the agent may still run before a wall-clock or working-time limit (its own or the
        campaign's) is reached; ``None`` when neither is set. A running tool gets no more than this."""
        left = [
            self.limits.max_wall_s - self.wall_s if self.limits.max_wall_s else None,
            self.limits.max_working_s - self.usage.working_s if self.limits.max_working_s else None,
        ]
        if self.campaign is not None:
            left.append(self.campaign.seconds_left())
        known = [x for x in left if x is not None]
        return max(min(known), 0.0) if known else None

    def dollars_per_hour(self) -> float:
        """Spend per agent-hour of wall time so far."""
        hours = max(self.wall_s, 1.0) / 3600
        return self.usage.cost_usd / hours
