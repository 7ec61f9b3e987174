"""The lowest layer: settings every component shares (``aar_core.settings``). Needs only pydantic-settings."""
