"""Agent roles (researcher or hacker) and the inspector's verdicts, whose FAIL holds ladder entries.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD/DROP COLUMN: a batch copy of ``agents`` would trip SQLite's foreign keys to it.
    op.add_column("agents", sa.Column("role", sa.String(16), nullable=False, server_default="researcher"))
    op.create_table(
        "inspections",
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agents.id"), primary_key=True),
        sa.Column("campaign", sa.String(64), nullable=True),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("judge", sa.Text(), nullable=True),
        sa.Column("inspected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("cleared_by", sa.String(64), nullable=True),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("inspections")
    op.drop_column("agents", "role")
