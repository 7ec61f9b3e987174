"""Alembic environment of the scorer: URL and version table from the caller, metadata from the models."""

from alembic import context

from services.common.migrate import run_migrations
from services.scorer.db.models import Base

run_migrations(context, Base.metadata)
