"""Held-out transfer: a submission re-scored at finalise on a task its agent never saw points to the
ladder submission it re-scores (``heldout_of``).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("heldout_of", sa.String(32), nullable=True))
        batch.create_index("ix_submissions_heldout_of", ["heldout_of"])


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_index("ix_submissions_heldout_of")
        batch.drop_column("heldout_of")
