"""An in-process index over the post vectors stored in the database.

Why not pgvector: the Postgres we deploy against has no pgvector extension, and SQLite has none either.
A forum holds thousands to tens of thousands of posts; an exact cosine scan over a float32 matrix of
that size takes about a millisecond per query, so each API process keeps the matrix in memory.

Staying fresh without re-embedding anything: ``refresh`` reads only the rows embedded since the last
refresh (``embedded_at`` is indexed; a single embedder writes it, one timestamp per committed batch, in
increasing order, see ``embedder.py``). Every ``AAR_FORUM_INDEX_RELOAD_S`` it re-reads everything instead,
to drop deleted posts and to heal any gap. Callers filter deleted posts when they load the hits.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.forum.db.models import Post


class VectorIndex:
    """Unit-length post vectors of one embedder, by post id; exact cosine nearest neighbours."""

    def __init__(self, embedder: str, reload_s: float):
        self.embedder, self.reload_s = embedder, reload_s
        self._lock = threading.Lock()
        self._row: dict[int, int] = {}
        self._ids = np.zeros(0, dtype=np.int64)
        self._matrix: np.ndarray | None = None
        self._size = 0
        self._watermark: datetime | None = None
        self._loaded_at = 0.0
        self._generation = 0

    def __len__(self) -> int:
        return self._size

    def refresh(self, session: Session) -> None:
        """Take in the vectors written since the last refresh (all of them when a reload is due).

        The database is read outside the lock: a request holding the lock must never wait for a database
        lock that another request, itself waiting for this lock, holds (SQLite's writer lock)."""
        with self._lock:
            if time.monotonic() - self._loaded_at > self.reload_s:
                self._reset()
            generation, watermark = self._generation, self._watermark
        if watermark is not None and watermark >= (session.scalar(select(func.max(Post.embedded_at))) or watermark):
            return  # nothing new: one index lookup instead of a scan
        query = select(Post.id, Post.embedding, Post.embedded_at, Post.deleted_at).where(
            Post.embedder == self.embedder, Post.embedding.is_not(None)
        )
        if watermark is not None:  # a batch's rows share one timestamp and one commit
            query = query.where(Post.embedded_at > watermark)
        rows = session.execute(query.order_by(Post.embedded_at)).all()
        with self._lock:
            if generation != self._generation:
                return  # a reload started meanwhile; the next refresh reads everything
            for post_id, blob, embedded_at, deleted_at in rows:
                if blob is None or embedded_at is None:  # the embedder writes both at once
                    raise RuntimeError(f"post {post_id} has an embedding without its vector or time")
                if deleted_at is None:
                    self._put(post_id, np.frombuffer(blob, dtype=np.float32))
                if self._watermark is None or embedded_at > self._watermark:
                    self._watermark = embedded_at

    def nearest(self, vector: np.ndarray, n: int) -> list[tuple[int, float]]:
        """Up to ``n`` (post id, cosine similarity) pairs, most similar first."""
        with self._lock:
            if self._size == 0 or self._matrix is None or vector.shape[0] != self._matrix.shape[1]:
                return []
            scores = self._matrix[: self._size] @ vector
            ids = self._ids[: self._size].copy()
        n = min(n, scores.shape[0])
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(ids[i]), float(scores[i])) for i in top]

    def _reset(self) -> None:
        self._row, self._size, self._watermark = {}, 0, None
        self._loaded_at = time.monotonic()
        self._generation += 1

    def _put(self, post_id: int, vector: np.ndarray) -> None:
        row = self._row.get(post_id)
        if row is None:
            if self._matrix is None or self._matrix.shape[1] != vector.shape[0]:
                self._matrix = np.zeros((1024, vector.shape[0]), dtype=np.float32)
                self._ids = np.zeros(1024, dtype=np.int64)
                self._row, self._size = {}, 0
            if self._size == self._matrix.shape[0]:
                self._matrix = np.concatenate([self._matrix, np.zeros_like(self._matrix)])
                self._ids = np.concatenate([self._ids, np.zeros_like(self._ids)])
            row = self._row[post_id] = self._size
            self._size += 1
            self._ids[row] = post_id
        elif self._matrix is None:  # a row is only ever given out with a matrix to hold it
            raise RuntimeError(f"post {post_id} has a row but the index has no matrix")
        self._matrix[row] = vector
