"""Engine settings, read from environment variables (prefix ``AAR_``)."""

from functools import lru_cache
from pathlib import Path

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class EngineSettings(BaseSettings):
    """Where the engine keeps its caches and which device it trains on.

    - ``AAR_HOME`` (default ``~/.aar``): local state; caches live under ``$AAR_HOME/cache``.
    - ``AAR_DEVICE`` (default ``auto``): ``cpu``, ``cuda`` or ``auto`` (CUDA when present).
    - ``AAR_WEAK_MODEL_PATH`` / ``AAR_STRONG_MODEL_PATH``: local model folders for JSONL (GPU) tasks.
    - ``AAR_SCORING_SECRET`` (default: generated once in ``$AAR_HOME/scoring-secret``): decides splits,
      item ids and orders (``w2s.secret``). Services that score must share it; jails never see it.
    """

    model_config = SettingsConfigDict(env_prefix="AAR_", extra="ignore")

    home: Path = Path("~/.aar").expanduser()
    device: str = "auto"
    weak_model_path: Path = Path("~/.aar/models/Qwen1.5-0.5B-Chat").expanduser()
    strong_model_path: Path = Path("~/.aar/models/Qwen3-4B-Base").expanduser()
    scoring_secret: SecretStr | None = None

    @property
    def cache_dir(self) -> Path:
        return self.home.expanduser() / "cache"

    @property
    def runs_dir(self) -> Path:
        return self.home.expanduser() / "runs"

    @field_validator("scoring_secret")
    @classmethod
    def _real_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and (len(value.get_secret_value()) < 16 or value.get_secret_value() == "changeme"):
            raise ValueError("AAR_SCORING_SECRET must be a real secret of at least 16 characters")
        return value


@lru_cache
def get_settings() -> EngineSettings:
    """The process-wide settings (tests clear the cache after changing the environment)."""
    return EngineSettings()


def resolve_device(name: str | None = None) -> str:
    """Turn ``auto`` into ``cuda`` when a GPU is visible, else ``cpu``."""
    import torch

    name = name or get_settings().device
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return name
