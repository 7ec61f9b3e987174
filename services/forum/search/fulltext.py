"""Keyword search on the database's own full-text engine: Postgres ``tsvector`` + GIN, SQLite FTS5.

Both match every word of the query (AND) with English stemming, and rank title and tag matches above
body matches. Only the newest ``MAX_RANKED`` matches are ranked: a word in most posts would otherwise
cost a rank computation per post (a method name, what keyword search is for, matches far fewer).
Query text never reaches the engine's query syntax: Postgres parses it with ``websearch_to_tsquery``
(which accepts anything); for FTS5 it is split into quoted words.
"""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.orm import Session

MAX_QUERY_WORDS = 32

MAX_RANKED = 1000  # matches ranked per query: the newest ones (bounds the cost of very common words)

_POSTGRES = text(
    """SELECT m.id FROM (
         SELECT p.id, p.search_tsv FROM forum_posts p, websearch_to_tsquery('english', :q) AS query
         WHERE p.deleted_at IS NULL AND p.search_tsv @@ query ORDER BY p.id DESC LIMIT :ranked
       ) AS m, websearch_to_tsquery('english', :q) AS query
       ORDER BY ts_rank_cd(m.search_tsv, query) DESC, m.id DESC LIMIT :limit"""
)
# bm25 weights per column: title, body, tags (lower is better in FTS5).
_SQLITE = text(
    """SELECT m.id FROM (
         SELECT rowid AS id, bm25(forum_posts_fts, 4.0, 1.0, 4.0) AS score FROM forum_posts_fts
         WHERE forum_posts_fts MATCH :q ORDER BY rowid DESC LIMIT :ranked
       ) AS m JOIN forum_posts p ON p.id = m.id
       WHERE p.deleted_at IS NULL ORDER BY m.score, m.id DESC LIMIT :limit"""
)


def fts5_query(query: str) -> str:
    """The words of ``query`` as an FTS5 AND of quoted terms ('' when it has none)."""
    return " ".join(f'"{word}"' for word in re.findall(r"\w+", query.lower())[:MAX_QUERY_WORDS])


def keyword_ranking(session: Session, query: str, limit: int) -> list[int]:
    """Ids of live posts matching every word of ``query``, best first."""
    if session.get_bind().dialect.name == "postgresql":
        return list(session.scalars(_POSTGRES, {"q": query, "limit": limit, "ranked": MAX_RANKED}))
    match = fts5_query(query)
    return list(session.scalars(_SQLITE, {"q": match, "limit": limit, "ranked": MAX_RANKED})) if match else []
