"""SQLAlchemy engines and sessions shared by the services: one engine per database URL per process."""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from threading import Lock
from typing import Any, cast

from sqlalchemy import CursorResult, DateTime, Engine, Result, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every backend (SQLite itself keeps no zone: it stores UTC and
    reads it back as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return (value.replace(tzinfo=UTC) if value.tzinfo is None else value).astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def _forget_pools_in_child() -> None:
    """In a forked child (Celery's pool child, uvicorn's workers) the parent's pooled connections are not the
    child's to use or close: sharing one socket between two processes corrupts both sessions (the reconciler's
    ``connection in transaction status INTRANS`` after a pool child was killed). The child connects afresh."""
    for engine in list(_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_pools_in_child)


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    """An engine for ``url``. SQLite gets WAL, a busy timeout and immediate transactions, so concurrent
    writers queue instead of failing — except on connections marked ``aar_read_only``, whose deferred
    transactions read a snapshot without taking the write lock. Writers of one process also queue on an
    in-process lock first: SQLite's busy handler retries with growing sleeps (up to 100 ms each), which
    made second-long tails under concurrent writes, while a lock hands over at once."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        writer = Lock()  # released by whichever thread returns the connection: a plain Lock, not an RLock

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below take over
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")  # WAL stays consistent; commits skip an fsync each
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn):
            if conn.get_execution_options().get("aar_read_only"):
                conn.exec_driver_sql("BEGIN")
                return
            if not conn.info.get("aar_writer"):
                # Bounded: a thread holding two write connections at once falls back to the busy handler.
                conn.info["aar_writer"] = writer.acquire(timeout=10)
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        def _release(info: dict) -> None:
            if info.pop("aar_writer", False):
                writer.release()

        # Released as the transaction ends (the event fires just before COMMIT runs, so a waiting writer may
        # meet the busy handler's first 1 ms sleep) or, whatever happened to it, when the connection returns.
        event.listen(engine, "commit", lambda conn: _release(conn.info))
        event.listen(engine, "rollback", lambda conn: _release(conn.info))
        event.listen(engine, "checkin", lambda _dbapi, record: _release(record.info))
        _ENGINES.add(engine)
        return engine
    engine = create_engine(url, pool_size=10, max_overflow=20)
    _ping_when_idle(engine)
    _ENGINES.add(engine)
    return engine


@lru_cache(maxsize=8)
def read_engine(url: str) -> Engine:
    """The engine for reads only (GET requests, the hot-read cache's loads). On Postgres a pool of its own whose
    connections are in autocommit from the start: each statement reads what was committed before it (as READ
    COMMITTED does) with no ``BEGIN``/``ROLLBACK`` round trips, and no isolation switch at each checkout (about
    70 µs of CPU each, as much again as the query's own Python). On SQLite ``get_engine``'s, marked
    ``aar_read_only``: deferred transactions that never take the write lock."""
    if url.startswith("sqlite"):
        return get_engine(url).execution_options(aar_read_only=True)
    engine = create_engine(
        url, pool_size=5, max_overflow=20, isolation_level="AUTOCOMMIT", connect_args={"autocommit": True}
    )
    _ping_when_idle(engine)
    _ENGINES.add(engine)
    return engine


IDLE_PING_S = 10.0  # a pooled connection unused this long is pinged before it is handed out


def _ping_when_idle(engine: Engine) -> None:
    """``pool_pre_ping`` for connections that sat idle: a server restart or an idle timeout drops those, while
    one returned a moment ago is alive. Under load every checkout skips the ping (a round trip per request
    before, a fifth of a cached read's time on a busy machine). A failed ping makes the pool connect afresh."""

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record) -> None:
        record.info["aar_returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection, record, _proxy) -> None:
        if time.monotonic() - record.info.get("aar_returned_at", 0.0) < IDLE_PING_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"stale pooled connection: {exc}") from exc


# The scope of every request's session dependency: FastAPI closes a ``yield`` dependency of the default
# ("request") scope only after the response has been sent, so a commit there let a client see 2xx before its
# write was durable (and a failed commit still answered success). "function" closes it as soon as the route
# returns, before the response leaves: a 2xx means committed, a failed commit means 500.
DURABLE = "function"

READ_METHODS = frozenset({"GET", "HEAD"})  # requests whose database work only reads


@lru_cache(maxsize=16)
def _factory(url: str, read_only: bool) -> sessionmaker[Session]:
    return sessionmaker(read_engine(url) if read_only else get_engine(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str, read_only: bool = False) -> Iterator[Session]:
    """A session that commits on success and rolls back on error. ``read_only`` (GET requests): on SQLite
    its transaction does not take the write lock, so reads never queue behind writers; on Postgres it opens
    no transaction (``read_engine``: autocommit), so it must not write."""
    session = _factory(url, read_only)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched (``Session.execute`` types its result as a plain ``Result``)."""
    return cast(CursorResult[Any], result).rowcount
