"""The scorer's migrations on both backends: a database made at 0001 keeps its rows through ``0002`` (the
compute-time column rename), ends with exactly the models' schema, and migrates down and up again."""

from __future__ import annotations

import contextlib

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from services.common.migrate import alembic_config
from services.scorer.db.migrate import MIGRATIONS
from services.scorer.db.models import Base
from tests.utils.stack import postgres_database

ROWS = [
    "INSERT INTO agents (name, token_sha256, created_at) VALUES ('a', 'h', CURRENT_TIMESTAMP)",
    "INSERT INTO quota_counters (agent_id, day, submissions, gpu_seconds) VALUES (1, '2027-01-01', 2, 12.5)",
    "INSERT INTO submissions (id, agent_id, task, kind, payload, payload_sha256, status, attempts, "
    "cancel_requested, created_at, flags, gpu_seconds) "
    "VALUES ('s1', 1, 't', 'method', '{}', 'x', 'done', 1, false, CURRENT_TIMESTAMP, '[]', 7.5)",
]


@contextlib.contextmanager
def sqlite_database(tmp_path):
    yield f"sqlite:///{tmp_path / 'scorer.db'}"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_compute_seconds_rename_keeps_rows_and_matches_the_models(backend, tmp_path):
    with sqlite_database(tmp_path) if backend == "sqlite" else postgres_database() as url:
        config = alembic_config(url, MIGRATIONS, "scorer")
        command.upgrade(config, "0001")
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                for row in ROWS:
                    conn.execute(text(row))
            command.upgrade(config, "head")
            with engine.connect() as conn:
                assert conn.execute(text("SELECT compute_seconds FROM quota_counters")).scalar_one() == 12.5
                assert conn.execute(text("SELECT compute_seconds FROM submissions")).scalar_one() == 7.5
                diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
            assert [d for d in diff if not (d[0] == "remove_table" and d[1].name.startswith("alembic_version"))] == []
            command.downgrade(config, "0001")
            with engine.connect() as conn:
                assert conn.execute(text("SELECT gpu_seconds FROM submissions")).scalar_one() == 7.5
            command.upgrade(config, "head")
        finally:
            engine.dispose()
