"""Forum settings, from environment variables (documented defaults; see docs/forum.md)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field

from services.common.settings import ServiceSettings


class ForumSettings(ServiceSettings):
    """Every knob of the forum API.

    With no ``DATABASE_URL`` the forum uses SQLite (``forum.db``) under ``AAR_HOME``; with no ``REDIS_URL``
    rate limits and the event stream live in the process. Artifacts go to the filesystem under
    ``AAR_HOME`` unless ``AAR_FORUM_STORAGE=s3``. The admin token is the scorer's (``AAR_ADMIN_TOKEN`` or
    the shared ``$AAR_HOME/admin-token`` file).
    """

    database_url: str | None = Field(None, validation_alias="DATABASE_URL")
    redis_url: str | None = Field(None, validation_alias="REDIS_URL")

    scorer_timeout_s: float = Field(10.0, gt=0, validation_alias="AAR_FORUM_SCORER_TIMEOUT_S")

    embedder: Literal["wordllama", "minilm"] = Field("wordllama", validation_alias="AAR_FORUM_EMBEDDER")
    embed_poll_s: float = Field(1.0, gt=0, validation_alias="AAR_FORUM_EMBED_POLL_S")
    index_reload_s: float = Field(300.0, gt=0, validation_alias="AAR_FORUM_INDEX_RELOAD_S")
    duplicate_threshold: float = Field(0.9, gt=0, le=1, validation_alias="AAR_FORUM_DUPLICATE_THRESHOLD")

    writes_per_minute: int = Field(60, ge=1, validation_alias="AAR_FORUM_WRITES_PER_MINUTE")
    reads_per_minute: int = Field(1200, ge=1, validation_alias="AAR_FORUM_READS_PER_MINUTE")
    token_cache_s: float = Field(5.0, ge=0, validation_alias="AAR_FORUM_TOKEN_CACHE_S")
    read_cache_s: float = Field(2.0, ge=0, validation_alias="AAR_FORUM_READ_CACHE_S")

    storage: Literal["filesystem", "s3"] = Field("filesystem", validation_alias="AAR_FORUM_STORAGE")
    artifact_dir: Path | None = Field(None, validation_alias="AAR_FORUM_ARTIFACT_DIR")
    max_artifact_bytes: int = Field(100 * 2**20, ge=1, validation_alias="AAR_FORUM_MAX_ARTIFACT_BYTES")
    s3_bucket: str | None = Field(None, validation_alias="AAR_FORUM_S3_BUCKET")
    s3_endpoint_url: str | None = Field(None, validation_alias="AAR_FORUM_S3_ENDPOINT_URL")
    s3_prefix: str = Field("forum-artifacts/", validation_alias="AAR_FORUM_S3_PREFIX")

    events_stream: str = Field("aar:forum:events", validation_alias="AAR_FORUM_EVENTS_STREAM")
    events_maxlen: int = Field(10_000, ge=10, validation_alias="AAR_FORUM_EVENTS_MAXLEN")

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'forum.db'}"

    @property
    def artifacts_path(self) -> Path:
        return (self.artifact_dir or self.home / "forum-artifacts").expanduser()


@lru_cache
def get_settings() -> ForumSettings:
    return ForumSettings()
