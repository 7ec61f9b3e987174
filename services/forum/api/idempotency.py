"""``Idempotency-Key`` on every forum create, with the scorer's semantics: the same key with the same request
answers with the resource the first request created; with another request (body or target), 409.

The key's row is inserted in the transaction that creates the resource, so either both exist or neither.
Concurrent uses of one key: on Postgres the second insert waits for the first transaction and then fails on
the primary key, and the loser reads the winner's row; on SQLite writers are serialised, so the second finds
the row before it inserts. A request that failed (4xx) stored nothing, so its key may be used again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, HTTPException
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common.inputs import KEY_PATTERN
from services.forum.db.models import IdempotencyKey


def request_digest(kind: str, target: object, body: object) -> str:
    """The sha256 a key is bound to: what is created, where, from what."""
    return hashlib.sha256(json.dumps([kind, target, body], sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Idempotency:
    """The caller's key (``None``: no header) and how to use it in one create."""

    key: str | None

    def _row(self, session: Session, agent_id: int) -> IdempotencyKey | None:
        return session.get(IdempotencyKey, (agent_id, self.key), populate_existing=True)

    def _replay(self, row: IdempotencyKey, kind: str, digest: str) -> str:
        if row.kind != kind or row.request_sha256 != digest:
            raise HTTPException(409, "Idempotency-Key was already used with a different request")
        return row.resource

    def seen(self, session: Session, agent_id: int, kind: str, digest: str) -> str | None:
        """The resource this key already created (409 if it was for another request), or ``None``."""
        if self.key is None:
            return None
        row = self._row(session, agent_id)
        return self._replay(row, kind, digest) if row is not None else None

    def claim(self, session: Session, agent_id: int, kind: str, digest: str) -> str | None:
        """Bind the key to this request in the current transaction, before anything is created. Returns
        ``None`` when bound (create, then ``bind`` the new resource), or the resource that this key already
        created — by an earlier request or a concurrent one, which this insert waited for."""
        if self.key is None:
            return None
        seen = self.seen(session, agent_id, kind, digest)
        if seen is not None:
            return seen
        try:
            with session.begin_nested():
                session.add(
                    IdempotencyKey(agent_id=agent_id, key=self.key, kind=kind, request_sha256=digest, resource="")
                )
        except IntegrityError:
            row = self._row(session, agent_id)
            if row is None:
                raise
            return self._replay(row, kind, digest)
        return None

    def bind(self, session: Session, agent_id: int, resource: object) -> None:
        """Name the resource the claimed key created (same transaction as ``claim``)."""
        if self.key is not None:
            row = self._row(session, agent_id)
            if row is None:
                raise RuntimeError(f"idempotency key {self.key!r} was bound before it was claimed")
            row.resource = str(resource)
            session.flush()


KeyHeader = Annotated[
    str | None,
    Header(pattern=KEY_PATTERN, description="retry-safe create: the same key and request give the same result"),
]


async def idempotency_dep(idempotency_key: KeyHeader = None) -> Idempotency:
    """``async``: it does no I/O, and FastAPI would run a plain ``def`` in a worker thread."""
    return Idempotency(idempotency_key)


IdempotencyDep = Annotated[Idempotency, Depends(idempotency_dep)]
