"""Idempotency keys of forum creates (posts, comments, artifacts, votes).

Revision ID: forum_0002
Revises: forum_0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from services.common.db import UTCDateTime

revision = "forum_0002"
down_revision = "forum_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forum_idempotency_keys",
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("forum_agents.id"), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("request_sha256", sa.String(64), nullable=False),
        sa.Column("resource", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("forum_idempotency_keys")
