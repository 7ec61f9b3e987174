"""Default resource limits and size caps of a sandbox, in one place (env prefix ``AAR_SANDBOX_``).

A ``SandboxSpec`` takes its defaults from here; a caller can still set each field per sandbox.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MiB = 1024 * 1024


class SandboxLimits(BaseSettings):
    """Defaults for every new sandbox.

    - ``AAR_SANDBOX_MEMORY_MB`` (4096): memory, with swap equal to it (no extra swap).
    - ``AAR_SANDBOX_CPUS`` (1.0): CPU time, in cores.
    - ``AAR_SANDBOX_PIDS`` (512): processes and threads.
    - ``AAR_SANDBOX_DISK_MB`` (10240): the writable ``/workspace``; ``AAR_SANDBOX_TMP_MB`` (512): ``/tmp``.
    - ``AAR_SANDBOX_EXEC_TIMEOUT_S`` (600): an exec without its own timeout.
    - ``AAR_SANDBOX_MAX_OUTPUT_BYTES`` (1 MiB): stdout and stderr each keep this much; the rest is
      dropped and the result says ``truncated``.
    - ``AAR_SANDBOX_MAX_FILE_BYTES`` (100 MiB): ``read_file`` and ``write_file``.
    - ``AAR_SANDBOX_MAX_TRANSFER_BYTES`` (2 GiB): ``upload``, ``download`` and ``snapshot`` archives.
    """

    model_config = SettingsConfigDict(env_prefix="AAR_SANDBOX_", extra="ignore")

    memory_mb: int = Field(4096, ge=64)
    cpus: float = Field(1.0, gt=0)
    pids: int = Field(512, ge=16)
    disk_mb: int = Field(10240, ge=16)
    tmp_mb: int = Field(512, ge=1)
    exec_timeout_s: float = Field(600, gt=0)
    max_output_bytes: int = Field(MiB, ge=1024)
    max_file_bytes: int = Field(100 * MiB, ge=1024)
    max_transfer_bytes: int = Field(2048 * MiB, ge=1024)


@lru_cache
def get_limits() -> SandboxLimits:
    """The process-wide defaults (tests clear the cache after changing the environment)."""
    return SandboxLimits()
