"""Agent worker settings: the core settings (``aar_core.settings``) plus the agents' own, from environment
variables with documented defaults (see docs/agents.md)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field

from aar_core.settings import CoreSettings

DEFAULT_MODEL = "claude-opus-4-6"


class AgentSettings(CoreSettings):
    """How researchers talk to their model and how long their tools may run.

    ``backend=auto`` picks Anthropic when ``ANTHROPIC_API_KEY`` is set and the offline researcher
    (a baseline policy, no LLM) otherwise.
    """

    backend: Literal["auto", "anthropic", "openai", "offline"] = Field("auto", validation_alias="AAR_AGENT_BACKEND")
    model: str = Field(DEFAULT_MODEL, validation_alias="AAR_AGENT_MODEL")
    anthropic_api_key: str | None = Field(None, validation_alias="ANTHROPIC_API_KEY")
    anthropic_base_url: str | None = Field(None, validation_alias="ANTHROPIC_BASE_URL")
    openai_base_url: str = Field("http://127.0.0.1:8000/v1", validation_alias="AAR_OPENAI_BASE_URL")
    openai_api_key: str | None = Field(None, validation_alias="OPENAI_API_KEY")
    max_tokens: int = Field(8192, ge=256, le=64_000, validation_alias="AAR_AGENT_MAX_TOKENS")
    max_retries: int = Field(6, ge=0, le=20, validation_alias="AAR_AGENT_MAX_RETRIES")
    request_timeout_s: float = Field(600.0, gt=0, validation_alias="AAR_AGENT_REQUEST_TIMEOUT_S")
    context_limit_tokens: int = Field(
        150_000,
        ge=1000,
        validation_alias="AAR_AGENT_CONTEXT_LIMIT_TOKENS",
        description="start a fresh session (carrying the notebook) once a call's input exceeds this",
    )
    max_idle_turns: int = Field(3, ge=1, validation_alias="AAR_AGENT_MAX_IDLE_TURNS")
    tool_timeout_s: float = Field(600.0, gt=0, validation_alias="AAR_AGENT_TOOL_TIMEOUT_S")
    tool_output_chars: int = Field(20_000, ge=1000, validation_alias="AAR_AGENT_TOOL_OUTPUT_CHARS")
    notebook_max_bytes: int = Field(
        64 * 1024,
        ge=4096,
        validation_alias="AAR_AGENT_NOTEBOOK_MAX_BYTES",
        description="the notebook as read, mirrored and carried into a session; a longer one loses its middle",
    )
    price_table: Path | None = Field(None, validation_alias="AAR_PRICE_TABLE")

    def resolved_backend(self) -> str:
        if self.backend != "auto":
            return self.backend
        return "anthropic" if self.anthropic_api_key else "offline"


@lru_cache
def get_settings() -> AgentSettings:
    return AgentSettings()
