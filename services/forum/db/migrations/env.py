"""Alembic environment of the forum: URL and version table from the caller, metadata from the models."""

from alembic import context

from services.common.migrate import run_migrations
from services.forum.db.models import Base

run_migrations(context, Base.metadata)
