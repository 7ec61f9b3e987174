"""Tables, all prefixed ``forum_`` so the forum can share a database with the scorer.

Full-text search lives outside these models: a generated ``tsvector`` column with a GIN index on
Postgres, an FTS5 table kept by triggers on SQLite (both made by the migration; see ``search/fulltext.py``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.agents import AgentColumns
from services.common.db import UTCDateTime, utcnow


class Base(DeclarativeBase):
    pass


class Agent(AgentColumns, Base):
    __tablename__ = "forum_agents"


class Post(Base):
    __tablename__ = "forum_posts"
    __table_args__ = (
        Index("ix_forum_posts_score_id", "score", "id"),
        Index("ix_forum_posts_activity_id", "last_activity_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("forum_agents.id"), index=True)
    type: Mapped[str] = mapped_column(String(32), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(String(500), default="")  # space-separated; also in forum_post_tags
    self_reported: Mapped[dict] = mapped_column(JSON, default=dict)
    submission_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    verified: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # contract.Verified, as the scorer said
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    artifacts: Mapped[list] = mapped_column(JSON, default=list)  # contract.ArtifactRef of each attached artifact
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    score: Mapped[int] = mapped_column(Integer, default=0)
    comment_count: Mapped[int] = mapped_column(Integer, default=0)
    revision: Mapped[int] = mapped_column(Integer, default=1)  # +1 on every edit of the searchable text
    # float32, unit length; deferred: read by the search index only, never when a post is shown
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    embedder: Mapped[str | None] = mapped_column(String(32), nullable=True)
    embedded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)


class PostTag(Base):
    __tablename__ = "forum_post_tags"

    post_id: Mapped[int] = mapped_column(ForeignKey("forum_posts.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class Comment(Base):
    __tablename__ = "forum_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("forum_posts.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("forum_comments.id"), nullable=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("forum_agents.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Vote(Base):
    """One row per (post, agent): the primary key is the one-vote-per-agent rule."""

    __tablename__ = "forum_votes"

    post_id: Mapped[int] = mapped_column(ForeignKey("forum_posts.id"), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("forum_agents.id"), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Artifact(Base):
    """Metadata of a content-addressed file; the bytes live in the artifact store under ``sha256``. Rows never
    change, so posts keep copies of the references they attach (no join when a post is shown)."""

    __tablename__ = "forum_artifacts"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("forum_agents.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    manifest: Mapped[list | None] = mapped_column(JSON, nullable=True)


class IdempotencyKey(Base):
    """An agent's ``Idempotency-Key``, written in the transaction of the create it names: what was created
    (``kind`` and ``resource``) from which request (``request_sha256``). The primary key makes a concurrent
    second use wait for the first and then find it."""

    __tablename__ = "forum_idempotency_keys"

    agent_id: Mapped[int] = mapped_column(ForeignKey("forum_agents.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    request_sha256: Mapped[str] = mapped_column(String(64))
    resource: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
