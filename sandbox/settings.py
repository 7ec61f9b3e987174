"""Sandbox settings in one place (env prefix ``AAR_SANDBOX_``): default limits and size caps of a sandbox,
the default provider, the Docker image, the Debian mirror of the image build and the nftables image.

A ``SandboxSpec`` takes its defaults from here; a caller can still set each field per sandbox.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from aar_core.settings import CoreSettings

MiB = 1024 * 1024


class SandboxSettings(CoreSettings):
    """Defaults for every new sandbox, and where sandboxes come from.

    - ``AAR_SANDBOX_MEMORY_MB`` (4096): memory, with swap equal to it (no extra swap).
    - ``AAR_SANDBOX_CPUS`` (1.0): CPU time, in cores.
    - ``AAR_SANDBOX_PIDS`` (512): processes and threads.
    - ``AAR_SANDBOX_DISK_MB`` (10240): the writable ``/workspace``; ``AAR_SANDBOX_TMP_MB`` (512): ``/tmp``.
    - ``AAR_SANDBOX_EXEC_TIMEOUT_S`` (600): an exec without its own timeout.
    - ``AAR_SANDBOX_MAX_OUTPUT_BYTES`` (1 MiB): stdout and stderr each keep this much; the rest is
      dropped and the result says ``truncated``.
    - ``AAR_SANDBOX_MAX_FILE_BYTES`` (100 MiB): ``read_file`` and ``write_file``.
    - ``AAR_SANDBOX_MAX_TRANSFER_BYTES`` (2 GiB): ``upload``, ``download`` and ``snapshot`` archives.
    - ``AAR_SANDBOX_MAX_ARCHIVE_MEMBERS`` (100000), ``AAR_SANDBOX_MAX_ARCHIVE_RATIO`` (200): what an untrusted
      archive (a download, a snapshot on resume) may unpack to, besides its bytes (``sandbox.archive``).
    - ``AAR_SANDBOX_DISK_RESERVE_MB`` (2048): a workspace image is allocated in full, and only while this much
      of the host's disk stays free.
    - ``AAR_SANDBOX_UID_BASE`` (1000000), ``AAR_SANDBOX_UID_COUNT`` (65536), ``AAR_SANDBOX_UID_LOCKS``
      (``/run/aar/uids``): the host uids leased one per sandbox and per jail (``sandbox.uids``).
    - ``AAR_SANDBOX_PROVIDER`` (unset): the default provider (``sandbox.registry.default_provider``, which
      also looks at ``DOCKER_HOST``).
    - ``AAR_SANDBOX_IMAGE`` (``aar-sandbox:latest``): the Docker provider's image.
    - ``AAR_SANDBOX_MIRROR`` (``http://deb.debian.org/debian``): the Debian mirror of the image build.
    - ``AAR_SANDBOX_NFT_IMAGE`` (unset): run ``nft`` in a container of this image (``sandbox.network``).
    """

    model_config = SettingsConfigDict(env_prefix="AAR_SANDBOX_", extra="ignore", populate_by_name=True)

    memory_mb: int = Field(4096, ge=64)
    cpus: float = Field(1.0, gt=0)
    pids: int = Field(512, ge=16)
    disk_mb: int = Field(10240, ge=16)
    tmp_mb: int = Field(512, ge=1)
    exec_timeout_s: float = Field(600, gt=0)
    max_output_bytes: int = Field(MiB, ge=1024)
    max_file_bytes: int = Field(100 * MiB, ge=1024)
    max_transfer_bytes: int = Field(2048 * MiB, ge=1024)
    max_archive_members: int = Field(100_000, ge=1)
    max_archive_ratio: float = Field(200, ge=1)
    disk_reserve_mb: int = Field(2048, ge=0)
    uid_base: int = Field(1_000_000, ge=65536, le=2**31 - 2**17)
    uid_count: int = Field(65536, ge=2)
    uid_locks: Path = Path("/run/aar/uids")
    provider: str | None = None
    image: str = "aar-sandbox:latest"
    mirror: str = "http://deb.debian.org/debian"
    nft_image: str | None = None
    docker_host: str | None = Field(None, validation_alias="DOCKER_HOST")


@lru_cache
def get_settings() -> SandboxSettings:
    """The process-wide defaults of new sandboxes (tests clear the cache after changing the environment)."""
    return SandboxSettings()
