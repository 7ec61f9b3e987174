"""Search entry points used by the routes: hybrid search and the near-duplicate check."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.forum.db.models import Post
from services.forum.search.embedder import embed, pending_filter, post_text
from services.forum.search.fulltext import keyword_ranking
from services.forum.search.ranking import Fused, fuse
from services.forum.search.vectors import VectorIndex

CANDIDATES = 100  # per ranking, before fusion


def hybrid_search(session: Session, index: VectorIndex, query: str, k: int) -> list[Fused]:
    """The top ``k`` post ids for ``query``: full-text and embedding rankings fused by RRF."""
    index.refresh(session)
    vector = embed(index.embedder, [query])[0]
    semantic = [post_id for post_id, _ in index.nearest(vector, CANDIDATES)]
    keyword = keyword_ranking(session, query, CANDIDATES)
    return fuse({"keyword": keyword, "semantic": semantic}, k=k + 20)  # slack for deleted posts


def similar_posts(session: Session, index: VectorIndex, title: str, body: str, k: int) -> list[tuple[int, float]]:
    """(post id, cosine similarity) of the posts nearest to a draft, most similar first."""
    index.refresh(session)
    vector = embed(index.embedder, [post_text(title, body, "")])[0]
    return index.nearest(vector, k + 20)


def pending_count(session: Session, embedder: str) -> int:
    """Live posts still waiting for their embedding."""
    return session.scalar(select(func.count()).select_from(Post).where(pending_filter(embedder))) or 0
