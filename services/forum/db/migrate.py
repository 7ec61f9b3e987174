"""The forum's migrations: ``upgrade(url)`` brings its database to head (idempotent)."""

from __future__ import annotations

from pathlib import Path

from services.common import migrate

MIGRATIONS = Path(__file__).parent / "migrations"


def upgrade(url: str) -> None:
    migrate.upgrade(url, MIGRATIONS, "forum")
