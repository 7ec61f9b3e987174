"""Dashboard settings, from environment variables (documented defaults; see docs/dashboard.md)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field

from services.common.settings import ServiceSettings


class DashboardSettings(ServiceSettings):
    """Where the dashboard finds the scorer, the forum and the campaign folders.

    The dashboard is an admin tool: it calls both services with the admin token (``AAR_ADMIN_TOKEN``, or the
    shared ``$AAR_HOME/admin-token`` file) and accepts only that token on its own API.
    """

    upstream_timeout_s: float = Field(10.0, gt=0, validation_alias="AAR_DASHBOARD_UPSTREAM_TIMEOUT_S")
    live_cache_s: float = Field(1.0, ge=0, validation_alias="AAR_DASHBOARD_LIVE_CACHE_S")
    sandbox: str = Field("bwrap", validation_alias="AAR_SANDBOX_PROVIDER", description="for campaigns started here")
    sandbox_allow: str | None = Field(
        None, validation_alias="AAR_SANDBOX_ALLOW", description="services the sandboxes of started campaigns may reach"
    )

    @property
    def campaigns_dir(self) -> Path:
        return self.home / "campaigns"


@lru_cache
def get_settings() -> DashboardSettings:
    return DashboardSettings()
