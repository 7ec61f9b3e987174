"""The one core settings class: what every component shares, read from the environment once per instance.

Each component's settings class subclasses ``CoreSettings`` (``services.common.settings.ServiceSettings``,
``w2s.config.EngineSettings``, ``workers.agent.config.AgentSettings``, ``sandbox.settings.SandboxSettings``,
``aar.settings.CliSettings``); no other module reads the environment. ``aar.settings`` lists them all.

- ``AAR_HOME`` (``~/.aar``): local state (caches, databases, campaigns, sandboxes, generated secrets).
- ``AAR_DEVICE`` (``auto``): ``cpu``, ``cuda`` or ``auto`` (CUDA when present).
- ``AAR_ADMIN_TOKEN``: the admin token every service accepts (no placeholders, at least 16 characters);
  unset, the services generate one once in ``$AAR_HOME/admin-token``.
- ``AAR_SCORING_SECRET``: decides splits, item ids and orders (``w2s.secret``); unset, generated once in
  ``$AAR_HOME/scoring-secret``. Services that score must share it; jails never see it.
- ``AAR_SCORER_URL`` / ``AAR_FORUM_URL``: where clients find the scorer and the forum.
- ``AAR_THREADS`` (1; else ``OMP_NUM_THREADS``, which is how the method jail passes it on): CPU threads of
  one process for torch, OpenMP and BLAS (``w2s.config.limit_threads``, ``sandbox.jail``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SCORER_PORT, FORUM_PORT, DASHBOARD_PORT = 8100, 8200, 8300
DEFAULT_SCORER_URL = f"http://127.0.0.1:{SCORER_PORT}"
DEFAULT_FORUM_URL = f"http://127.0.0.1:{FORUM_PORT}"
PLACEHOLDER_SECRETS = {"changeme", "changethis", "secret", "admin", "password"}


def check_admin_secret(token: str | None) -> str | None:
    """Reject placeholder or short admin tokens (a settings validator)."""
    if token is not None and (token.lower() in PLACEHOLDER_SECRETS or len(token) < 16):
        raise ValueError("AAR_ADMIN_TOKEN must be a real secret of at least 16 characters")
    return token


class CoreSettings(BaseSettings):
    """Home, device, secrets and service URLs (fields come from the environment by their alias)."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    aar_home: Path = Field(Path("~/.aar"), validation_alias="AAR_HOME")
    device: str = Field("auto", validation_alias="AAR_DEVICE")
    admin_token: str | None = Field(None, validation_alias="AAR_ADMIN_TOKEN")
    scoring_secret: SecretStr | None = Field(None, validation_alias="AAR_SCORING_SECRET")
    scorer_url: str = Field(DEFAULT_SCORER_URL, validation_alias="AAR_SCORER_URL")
    forum_url: str = Field(DEFAULT_FORUM_URL, validation_alias="AAR_FORUM_URL")
    # One thread: our processes share the cores with the services, sandboxes and other runs, and the engine's
    # tensors are small (a 64 x 384 minibatch), so more threads only spin against each other: 5 seeds of
    # vanilla took 66.7 s with the default threads beside another run, 16.1 s with one (docs/benchmarks.md).
    threads: int = Field(1, ge=1, validation_alias=AliasChoices("AAR_THREADS", "OMP_NUM_THREADS"))

    @field_validator("admin_token")
    @classmethod
    def _no_placeholder(cls, token: str | None) -> str | None:
        return check_admin_secret(token or None)

    @field_validator("scoring_secret")
    @classmethod
    def _real_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and (len(value.get_secret_value()) < 16 or value.get_secret_value() == "changeme"):
            raise ValueError("AAR_SCORING_SECRET must be a real secret of at least 16 characters")
        return value

    @property
    def home(self) -> Path:
        """``AAR_HOME`` with ``~`` expanded."""
        return self.aar_home.expanduser()
