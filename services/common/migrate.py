"""Alembic is the only way a service's schema changes: ``upgrade(url, folder, service)`` brings a
database to head. Each service keeps its own version table, so services may share one database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config


def alembic_config(url: str, migrations: Path, service: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["version_table"] = f"alembic_version_{service}"
    return config


def upgrade(url: str, migrations: Path, service: str) -> None:
    """Apply every migration up to head (idempotent)."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url, migrations, service), "head")


def run_migrations(context, metadata) -> None:
    """The body of a service's ``migrations/env.py``: URL and version table from the caller's Config."""
    from sqlalchemy import create_engine, pool

    from services.common.db import get_engine

    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    options = dict(target_metadata=metadata, compare_type=True, version_table=config.attributes["version_table"])
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = get_engine(url) if url.startswith("sqlite") else create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()
