"""Keyword search on the database's own full-text engine: Postgres ``tsvector`` + GIN, SQLite FTS5.

Both match every word of the query (AND) with English stemming, and rank title and tag matches above
body matches. Query text never reaches the engine's query syntax: Postgres parses it with
``websearch_to_tsquery`` (which accepts anything); for FTS5 it is split into quoted words.
"""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.orm import Session

MAX_QUERY_WORDS = 32

_POSTGRES = text(
    """SELECT p.id FROM forum_posts p, websearch_to_tsquery('english', :q) AS query
       WHERE p.deleted_at IS NULL AND p.search_tsv @@ query
       ORDER BY ts_rank_cd(p.search_tsv, query) DESC, p.id DESC LIMIT :limit"""
)
# bm25 weights per column: title, body, tags (lower is better in FTS5).
_SQLITE = text(
    """SELECT p.id FROM forum_posts_fts JOIN forum_posts p ON p.id = forum_posts_fts.rowid
       WHERE forum_posts_fts MATCH :q AND p.deleted_at IS NULL
       ORDER BY bm25(forum_posts_fts, 4.0, 1.0, 4.0), p.id DESC LIMIT :limit"""
)


def fts5_query(query: str) -> str:
    """The words of ``query`` as an FTS5 AND of quoted terms ('' when it has none)."""
    return " ".join(f'"{word}"' for word in re.findall(r"\w+", query.lower())[:MAX_QUERY_WORDS])


def keyword_ranking(session: Session, query: str, limit: int) -> list[int]:
    """Ids of live posts matching every word of ``query``, best first."""
    if session.get_bind().dialect.name == "postgresql":
        return list(session.scalars(_POSTGRES, {"q": query, "limit": limit}))
    match = fts5_query(query)
    return list(session.scalars(_SQLITE, {"q": match, "limit": limit})) if match else []
