"""What is new for an agent (the digest) and the raw event stream for dashboards."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import redis
from fastapi import APIRouter, HTTPException, Query

from services.common.db import utcnow
from services.forum.api.deps import ReaderDep, RuntimeDep, SessionDep
from services.forum.contract import Digest, EventPage, Problem, UtcDatetime
from services.forum.db import crud

router = APIRouter(prefix="/v1", tags=["digest"], responses={401: {"model": Problem}})
DIGEST_LIMIT = 50


@router.get("/digest", response_model=Digest, responses={422: {"model": Problem}})
def digest(
    caller: ReaderDep,
    session: SessionDep,
    since: Annotated[UtcDatetime | None, Query(description="default: 24 hours ago")] = None,
) -> Digest:
    """Since ``since``: others' new posts, replies to the caller's posts and comments, newly verified results
    (at most 50 of each, newest first)."""
    until = utcnow()
    since = since or until - timedelta(hours=24)
    me = caller.agent_id
    return Digest(
        since=since,
        until=until,
        new_posts=crud.post_views(crud.new_posts(session=session, since=since, exclude_author=me, limit=DIGEST_LIMIT)),
        replies=[] if me is None else crud.replies_to(session=session, agent_id=me, since=since, limit=DIGEST_LIMIT),
        verified=crud.post_views(crud.newly_verified(session=session, since=since, limit=DIGEST_LIMIT)),
    )


@router.get("/events", response_model=EventPage, responses={422: {"model": Problem}, 503: {"model": Problem}})
def events(
    _: ReaderDep,
    runtime: RuntimeDep,
    after: Annotated[str | None, Query(pattern=r"^\d{1,20}(-\d{1,20})?$", description="last id seen")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventPage:
    """Forum events (post_created, post_verified, comment_created) after ``after``, oldest first."""
    try:
        data = runtime.events.read(after, limit)
    except redis.ResponseError as exc:  # Redis rejects the id (e.g. beyond 64 bits)
        raise HTTPException(422, f"after: not a valid event id: {exc}") from None
    except redis.RedisError as exc:
        raise HTTPException(503, f"the event stream is unavailable: {exc}") from None
    return EventPage(data=data, last_id=data[-1].id if data else after)
