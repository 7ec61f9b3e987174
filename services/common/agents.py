"""Agents and their tokens, the same in every service: a table mixin and the issue/revoke/lookup queries.

Each service keeps its own agents table (``class Agent(AgentColumns, Base)``), so services can share a
database; the campaign runner issues every service's token under the same agent name.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from sqlalchemy import Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.common.db import UTCDateTime, rowcount, utcnow
from services.common.tokens import digest


class AgentColumns:
    """Columns of an agents table: the name and the sha256 of its current token (never the token)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


AgentT = TypeVar("AgentT", bound=AgentColumns)


def agent_by_token(*, session: Session, model: type[AgentT], token: str) -> AgentT | None:
    """The agent holding ``token``, or None (unknown or revoked)."""
    agent = session.scalar(select(model).where(model.token_sha256 == digest(token)))
    return agent if agent is not None and agent.revoked_at is None else None


def issue_token(*, session: Session, model: type[AgentT], name: str, token: str) -> AgentT:
    """Create the agent or rotate its token (a re-issued token replaces the old one)."""
    agent = session.scalar(select(model).where(model.name == name))
    if agent is None:
        agent = model()
        agent.name, agent.token_sha256 = name, digest(token)
        session.add(agent)
    else:
        agent.token_sha256, agent.revoked_at = digest(token), None
    session.flush()
    return agent


def revoke_token(*, session: Session, model: type[AgentColumns], name: str) -> bool:
    """Revoke the agent's token; False if it has none active."""
    result = session.execute(
        update(model).where(model.name == name, model.revoked_at.is_(None)).values(revoked_at=utcnow())
    )
    return rowcount(result) == 1
