"""Settings every service reads: ``AAR_HOME`` and the shared admin token."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.tokens import admin_token, check_admin_secret


class ServiceSettings(BaseSettings):
    """The base of each service's settings class (fields come from the environment by their alias)."""

    model_config = SettingsConfigDict(extra="ignore")

    aar_home: Path = Field(Path("~/.aar"), validation_alias="AAR_HOME")
    admin_token: str | None = Field(None, validation_alias="AAR_ADMIN_TOKEN")

    @field_validator("admin_token")
    @classmethod
    def _no_placeholder(cls, token: str | None) -> str | None:
        return check_admin_secret(token or None)

    @property
    def home(self) -> Path:
        return self.aar_home.expanduser()

    def resolved_admin_token(self) -> str:
        """The admin token: from the environment, or generated once under ``AAR_HOME`` (mode 0600)."""
        return admin_token(self.home, self.admin_token)
