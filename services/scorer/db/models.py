"""Tables. Postgres (or SQLite in the embedded default) is the source of truth for every job."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.agents import AgentColumns
from services.common.db import utcnow


class Base(DeclarativeBase):
    pass


class Agent(AgentColumns, Base):
    __tablename__ = "agents"

    role: Mapped[str] = mapped_column(String(16), default="researcher", server_default="researcher")
    """``researcher`` or ``hacker``: a hacker's submissions are attacks, recorded with their verdicts, never ranked."""


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("agent_id", "idempotency_key", name="uq_submission_idempotency"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    task: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict] = mapped_column(JSON)
    payload_sha256: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True, default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    enqueued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    full_result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    source_audit: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    heldout_of: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    progress: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    public_result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    flags: Mapped[list] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    compute_seconds: Mapped[float] = mapped_column(Float, default=0.0)


class QuotaCounter(Base):
    """Per agent per UTC day: submissions accepted and compute seconds spent (failed runs included)."""

    __tablename__ = "quota_counters"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    submissions: Mapped[int] = mapped_column(Integer, default=0)
    compute_seconds: Mapped[float] = mapped_column(Float, default=0.0)


class Ladder(Base):
    """Each agent's best reported public PGR per task (Blum & Hardt's ladder)."""

    __tablename__ = "ladders"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    task: Mapped[str] = mapped_column(String(200), primary_key=True)
    best: Mapped[float] = mapped_column(Float)
    submission_id: Mapped[str] = mapped_column(String(32))


class TaskState(Base):
    __tablename__ = "task_states"

    task: Mapped[str] = mapped_column(String(200), primary_key=True)
    finalised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditLog(Base):
    """Append-only: rows are inserted, never updated or deleted."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    agent: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    submission_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    event: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class Inspection(Base):
    """The inspector's latest verdict on an agent (``workers.agent.inspector``). A FAIL holds the agent's
    leaderboard entries until an admin clears it (``cleared_by``, and an audit event)."""

    __tablename__ = "inspections"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    campaign: Mapped[str | None] = mapped_column(String(64), nullable=True)
    verdict: Mapped[str] = mapped_column(String(16))
    evidence: Mapped[list] = mapped_column(JSON, default=list)
    judge: Mapped[str | None] = mapped_column(Text, nullable=True)
    inspected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    held: Mapped[bool] = mapped_column(Boolean, default=False)
    cleared_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
