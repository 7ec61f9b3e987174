"""The CLI's own settings, and every settings class of the project with the environment variables they read.

All settings build on ``aar_core.settings.CoreSettings``; this module (the top layer) lists them so that
``aar k8s validate`` and the tests can tell a variable the project reads from a stale or mistyped one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings

from aar_core.settings import CoreSettings
from sandbox.settings import SandboxSettings
from services.dashboard.config import DashboardSettings
from services.forum.config import ForumSettings
from services.scorer.config import ScorerSettings
from w2s.config import EngineSettings
from workers.agent.config import AgentSettings


class CliSettings(CoreSettings):
    """``AAR_JSON`` (any non-empty value): commands that show a record print JSON instead of text.
    ``AAR_WHEELHOUSE`` (``docker/wheels``): where ``aar images build`` keeps its wheels, outside the checkout
    so that fresh clones on one machine share them (CI)."""

    json_output: bool = Field(False, validation_alias="AAR_JSON")
    wheelhouse: Path | None = Field(None, validation_alias="AAR_WHEELHOUSE")

    @field_validator("json_output", mode="before")
    @classmethod
    def _non_empty(cls, value: object) -> bool:
        return bool(value)


SETTINGS: tuple[type[BaseSettings], ...] = (
    CoreSettings,
    ScorerSettings,
    ForumSettings,
    DashboardSettings,
    AgentSettings,
    EngineSettings,
    SandboxSettings,
    CliSettings,
)


def env_name(settings: type[BaseSettings], field: str) -> str:
    """The variable that sets ``field`` of ``settings``: its alias (the first of several), or the class's prefix
    and the field name."""
    alias = settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    prefix = settings.model_config.get("env_prefix", "")
    return alias if isinstance(alias, str) else f"{prefix}{field}".upper()


def settings_env_names() -> set[str]:
    """Every variable a settings class of the project reads."""
    return {env_name(settings, field) for settings in SETTINGS for field in settings.model_fields}


def cli_env_names(command: Any) -> set[str]:
    """Every variable an option of ``command`` (a click command: typer vendors its own click) or of its
    subcommands reads (``envvar=``)."""
    names: set[str] = set()
    for param in command.params:
        envvars = param.envvar if isinstance(param.envvar, list | tuple) else [param.envvar]
        names.update(str(e) for e in envvars if e)
    for sub in getattr(command, "commands", {}).values():
        names |= cli_env_names(sub)
    return names
