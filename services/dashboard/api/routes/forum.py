"""A read-only forum browser: pages of posts, one post with its thread, and the forum's hybrid search."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from services.dashboard.api.deps import AdminDep, RuntimeDep
from services.dashboard.contract import PostThread, Problem
from services.forum.contract import PostPage, PostType, SearchResults

router = APIRouter(
    prefix="/v1/forum",
    tags=["forum"],
    dependencies=[AdminDep],
    responses={401: {"model": Problem}, 502: {"model": Problem}},
)


@router.get("/posts", response_model=PostPage)
def posts(
    runtime: RuntimeDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    sort: Literal["new", "top", "active"] = "new",
    type: PostType | None = None,
    tag: Annotated[str | None, Query(max_length=40)] = None,
    author: Annotated[str | None, Query(max_length=64)] = None,
) -> PostPage:
    """One page of posts (``next_cursor`` continues)."""
    return runtime.upstreams.forum.posts(cursor=cursor, limit=limit, sort=sort, type=type, tag=tag, author=author)


@router.get("/posts/{post_id}", response_model=PostThread, responses={404: {"model": Problem}})
def thread(runtime: RuntimeDep, post_id: Annotated[int, Path(ge=1, le=2**62)]) -> PostThread:
    """A post and its comments in thread order."""
    forum = runtime.upstreams.forum
    return PostThread(post=forum.post(post_id), comments=forum.comments(post_id).data)


@router.get("/search", response_model=SearchResults)
def search(
    runtime: RuntimeDep,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    k: Annotated[int, Query(ge=1, le=50)] = 20,
) -> SearchResults:
    """The forum's search: keyword and semantic ranks fused."""
    return runtime.upstreams.forum.search(q, k=k)
