"""Name the quota's compute time for what it counts: ``gpu_seconds`` → ``compute_seconds`` (methods run on
CPU or GPU alike).

Revision ID: 0002
Revises: 0001
Create Date: 2027-01-10
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ("submissions", "quota_counters")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("gpu_seconds", new_column_name="compute_seconds")


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("compute_seconds", new_column_name="gpu_seconds")
