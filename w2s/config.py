"""Engine settings: the core settings (``aar_core.settings``) plus the engine's own, prefix ``AAR_``."""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import SettingsConfigDict

from aar_core.settings import CoreSettings


class EngineSettings(CoreSettings):
    """Where the engine keeps its caches and which device it trains on.

    - ``AAR_HOME``, ``AAR_DEVICE`` and ``AAR_SCORING_SECRET``: see ``aar_core.settings``; caches live
      under ``$AAR_HOME/cache``.
    - ``AAR_WEAK_MODEL_PATH`` / ``AAR_STRONG_MODEL_PATH``: local model folders for JSONL (GPU) tasks.
    """

    model_config = SettingsConfigDict(env_prefix="AAR_", extra="ignore", populate_by_name=True)

    weak_model_path: Path = Path("~/.aar/models/Qwen1.5-0.5B-Chat").expanduser()
    strong_model_path: Path = Path("~/.aar/models/Qwen3-4B-Base").expanduser()

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def runs_dir(self) -> Path:
        return self.home / "runs"


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
