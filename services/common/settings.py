"""Settings every service reads: the core settings (``AAR_HOME``, the admin token, service URLs) and the
admin token's resolution."""

from __future__ import annotations

from aar_core.settings import CoreSettings
from services.common.tokens import admin_token


class ServiceSettings(CoreSettings):
    """The base of each service's settings class (fields come from the environment by their alias)."""

    def resolved_admin_token(self) -> str:
        """The admin token: from the environment, or generated once under ``AAR_HOME`` (mode 0600)."""
        return admin_token(self.home, self.admin_token)
