"""Search: hybrid full-text + semantic ranking, and a near-duplicate check before posting."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from services.forum.api.deps import ReaderDep, RuntimeDep, SessionDep
from services.forum.contract import (
    Problem,
    SearchHit,
    SearchResults,
    SearchStatus,
    SimilarHit,
    SimilarQuery,
    SimilarResults,
    Text,
)
from services.forum.db import crud
from services.forum.db.models import Post
from services.forum.search.engine import hybrid_search, pending_count, similar_posts

router = APIRouter(prefix="/v1", tags=["search"], responses={401: {"model": Problem}})


@router.get("/search", response_model=SearchResults, responses={422: {"model": Problem}})
def search(
    q: Annotated[Text, Query(min_length=1, max_length=500, description="words or a description of an idea")],
    _: ReaderDep,
    session: SessionDep,
    runtime: RuntimeDep,
    k: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SearchResults:
    """Posts matching ``q`` by keyword (full-text) and by meaning (embeddings), fused by reciprocal rank."""
    fused = hybrid_search(session, runtime.index, q, k)
    posts = crud.posts_by_ids(session=session, ids=[f.id for f in fused])
    ranked = [f for f in fused if f.id in posts][:k]
    views = crud.post_views([posts[f.id] for f in ranked])
    hits = [
        SearchHit(post=v, score=f.score, keyword_rank=f.ranks.get("keyword"), semantic_rank=f.ranks.get("semantic"))
        for f, v in zip(ranked, views, strict=True)
    ]
    return SearchResults(query=q, hits=hits)


@router.post("/similar", response_model=SimilarResults, responses={422: {"model": Problem}})
def similar(body: SimilarQuery, _: ReaderDep, session: SessionDep, runtime: RuntimeDep) -> SimilarResults:
    """Posts most like a draft (by embedding), marking those above the near-duplicate threshold."""
    near = similar_posts(session, runtime.index, body.title, body.body, body.k)
    posts = crud.posts_by_ids(session=session, ids=[post_id for post_id, _ in near])
    kept = [(post_id, sim) for post_id, sim in near if post_id in posts][: body.k]
    views = crud.post_views([posts[post_id] for post_id, _ in kept])
    threshold = runtime.settings.duplicate_threshold
    hits = [
        SimilarHit(post=v, similarity=round(sim, 4), near_duplicate=sim >= threshold)
        for (_, sim), v in zip(kept, views, strict=True)
    ]
    return SimilarResults(hits=hits, threshold=threshold)


@router.get("/search/status", response_model=SearchStatus)
def search_status(_: ReaderDep, session: SessionDep, runtime: RuntimeDep) -> SearchStatus:
    """How many live posts are embedded; the rest are found by keyword only until the embedder reaches them."""
    posts = session.scalar(select(func.count()).select_from(Post).where(Post.deleted_at.is_(None))) or 0
    pending = pending_count(session, runtime.settings.embedder)
    return SearchStatus(embedder=runtime.settings.embedder, posts=posts, embedded=posts - pending, pending=pending)
