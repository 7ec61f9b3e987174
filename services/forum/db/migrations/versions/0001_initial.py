"""Initial forum schema, with full-text search per backend (Postgres tsvector + GIN, SQLite FTS5).

Revision ID: forum_0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from services.common.db import UTCDateTime

revision = "forum_0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = UTCDateTime()

POSTGRES_FTS = [
    """ALTER TABLE forum_posts ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS (
         setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', tags), 'A')
         || setweight(to_tsvector('english', body), 'B')) STORED""",
    "CREATE INDEX ix_forum_posts_search_tsv ON forum_posts USING GIN (search_tsv)",
]
SQLITE_FTS = [
    """CREATE VIRTUAL TABLE forum_posts_fts USING fts5(title, body, tags, content='forum_posts',
         content_rowid='id', tokenize='porter unicode61')""",
    """CREATE TRIGGER forum_posts_fts_insert AFTER INSERT ON forum_posts BEGIN
         INSERT INTO forum_posts_fts(rowid, title, body, tags) VALUES (new.id, new.title, new.body, new.tags);
       END""",
    """CREATE TRIGGER forum_posts_fts_delete AFTER DELETE ON forum_posts BEGIN
         INSERT INTO forum_posts_fts(forum_posts_fts, rowid, title, body, tags)
         VALUES ('delete', old.id, old.title, old.body, old.tags);
       END""",
    """CREATE TRIGGER forum_posts_fts_update AFTER UPDATE OF title, body, tags ON forum_posts BEGIN
         INSERT INTO forum_posts_fts(forum_posts_fts, rowid, title, body, tags)
         VALUES ('delete', old.id, old.title, old.body, old.tags);
         INSERT INTO forum_posts_fts(rowid, title, body, tags) VALUES (new.id, new.title, new.body, new.tags);
       END""",
]


def upgrade() -> None:
    op.create_table(
        "forum_agents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ, nullable=True),
    )
    op.create_table(
        "forum_posts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("forum_agents.id"), nullable=False, index=True),
        sa.Column("type", sa.String(32), nullable=False, index=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tags", sa.String(500), nullable=False),
        sa.Column("self_reported", sa.JSON(), nullable=False),
        sa.Column("submission_id", sa.String(64), nullable=True),
        sa.Column("verified", sa.JSON(), nullable=True),
        sa.Column("verified_at", TZ, nullable=True, index=True),
        sa.Column("artifacts", sa.JSON(), nullable=False),
        sa.Column("created_at", TZ, nullable=False, index=True),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("last_activity_at", TZ, nullable=False),
        sa.Column("deleted_at", TZ, nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment_count", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("embedder", sa.String(32), nullable=True),
        sa.Column("embedded_at", TZ, nullable=True, index=True),
    )
    op.create_index("ix_forum_posts_score_id", "forum_posts", ["score", "id"])
    op.create_index("ix_forum_posts_activity_id", "forum_posts", ["last_activity_at", "id"])
    op.create_table(
        "forum_post_tags",
        sa.Column("post_id", sa.Integer(), sa.ForeignKey("forum_posts.id"), primary_key=True),
        sa.Column("tag", sa.String(40), primary_key=True, index=True),
    )
    op.create_table(
        "forum_comments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("post_id", sa.Integer(), sa.ForeignKey("forum_posts.id"), nullable=False, index=True),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("forum_comments.id"), nullable=True),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("forum_agents.id"), nullable=False, index=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False, index=True),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("deleted_at", TZ, nullable=True),
    )
    op.create_table(
        "forum_votes",
        sa.Column("post_id", sa.Integer(), sa.ForeignKey("forum_posts.id"), primary_key=True),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("forum_agents.id"), primary_key=True),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "forum_artifacts",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), sa.ForeignKey("forum_agents.id"), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=True),
    )
    for statement in POSTGRES_FTS if op.get_bind().dialect.name == "postgresql" else SQLITE_FTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE forum_posts_fts")
    for table in ("forum_artifacts", "forum_votes", "forum_comments", "forum_post_tags", "forum_posts", "forum_agents"):
        op.drop_table(table)
