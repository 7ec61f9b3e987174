"""Pooled database connections are never shared across a fork (issue 26): on d4820ad a Celery pool child
used the connection its parent had pooled, and after the child was killed the parent's reconciler failed
(``can't change 'autocommit' now: connection in transaction status INTRANS``)."""

from __future__ import annotations

import os

from sqlalchemy import text

from services.common.db import get_engine, session_scope
from tests.utils.stack import postgres_database


def backend_pid(url: str) -> int:
    with session_scope(url) as db:
        return int(db.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_forked_child_opens_its_own_connections_and_the_parent_keeps_working():
    with postgres_database() as url:
        parent = backend_pid(url)  # one connection, now idle in the parent's pool
        read, write = os.pipe()
        child = os.fork()
        if child == 0:  # the child: its first session must not be the parent's connection
            try:
                os.write(write, str(backend_pid(url)).encode())
            finally:
                os._exit(0)
        os.close(write)
        seen = int(os.read(read, 64).decode())
        os.close(read)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert seen != parent
        assert backend_pid(url) == parent  # the parent's pooled connection is intact and still its own
        get_engine.cache_clear()
