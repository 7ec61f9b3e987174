"""Hot reads served on the event loop: one post, a page of posts, a comment thread.

A route asks ``CachedReads.get`` for a key and gives it a loader. With the hot-read cache on (Postgres +
Redis, ``db/hotreads.py``) an entry stored under the generation this request read is returned at once: no
database round trip, no worker thread, no ORM or pydantic work (entries are rendered JSON). Otherwise the
loader runs in a worker thread on a plain connection of the read engine (``services.common.db.read_engine``:
on Postgres autocommit, one round trip per statement; no session, whose bookkeeping cost as much CPU as the
query) and what it returns is stored under that generation.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar, cast

from fastapi import Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import Connection

from services.common.auth import Caller
from services.common.db import read_engine
from services.forum.db.hotreads import HotReads

T = TypeVar("T")


@dataclass(frozen=True)
class CachedReads:
    """The cache as one request sees it: ``generation`` is what the request read when it was admitted
    (``None``: no cache, or Redis did not answer); ``caller`` is who asked."""

    db_url: str
    cache: HotReads | None
    generation: int | None
    caller: Caller

    async def get(self, key: Hashable, load: Callable[[Connection], T]) -> T:
        """``load(connection)``'s value for ``key``: from the cache when stored under this request's generation."""
        cache, generation = self.cache, self.generation
        if cache is not None and generation is not None:
            hit, value = cache.get(key, generation)
            if hit:
                return cast(T, value)
        loaded = await run_in_threadpool(self._load, load)
        if cache is not None and generation is not None:
            cache.put(key, generation, loaded)
        return loaded

    def _load(self, load: Callable[[Connection], T]) -> T:
        with read_engine(self.db_url).connect() as connection:
            return load(connection)


def render(model: BaseModel) -> bytes:
    """``model`` as the JSON FastAPI would send for it (pydantic's serializer: compact, UTF-8)."""
    return model.__pydantic_serializer__.to_json(model)


def json_response(body: bytes, status_code: int = 200) -> Response:
    return Response(content=body, status_code=status_code, media_type="application/json")
