"""Engine settings: the core settings (``aar_core.settings``) plus the engine's own, prefix ``AAR_``."""

import sys
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


_limited: tuple[int, int] | None = None  # (threads, modules loaded) when the pools were last limited


def limit_threads() -> None:
    """Hold this process's torch (intra-op), OpenMP and BLAS pools to ``AAR_THREADS`` (``aar_core.settings``).

    Called where the engine computes (training, the teacher's fit, embedding). Listing the native pools costs
    about 10 ms, so it is redone only when modules were imported since (a new pool comes with an import)."""
    global _limited
    from threadpoolctl import threadpool_limits

    threads = get_settings().threads
    torch = sys.modules.get("torch")  # only once imported: the forum embeds with wordllama and has no torch
    if torch is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    if _limited != (threads, len(sys.modules)):
        threadpool_limits(threads)
        _limited = (threads, len(sys.modules))


def resolve_device(name: str | None = None) -> str:
    """Turn ``auto`` into ``cuda`` when a GPU is visible, else ``cpu``."""
    import torch

    name = name or get_settings().device
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return name
