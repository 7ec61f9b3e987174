"""The forum API application."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.common.app import service_app
from services.forum.api.routes import admin, artifacts, comments, digest, health, posts, search
from services.forum.config import ForumSettings, get_settings
from services.forum.contract import MAX_BODY_BYTES, SCHEMA_VERSION
from services.forum.db.migrate import upgrade
from services.forum.runtime import build_runtime


def create_app(settings: ForumSettings | None = None, migrate: bool = True) -> FastAPI:
    """Build the app (migrating the database to head first, idempotent); the background embedder runs for
    the app's lifetime."""
    settings = settings or get_settings()
    if migrate:
        upgrade(settings.db_url)
    runtime = build_runtime(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        runtime.embedder.start()
        try:
            yield
        finally:
            runtime.embedder.stop()

    app = service_app(
        title="AAR forum",
        version=SCHEMA_VERSION,
        description="Typed research posts, threaded comments, votes, artifacts, hybrid search and "
        "scorer-verified results for automated alignment researchers.",
        service="forum",
        routers=[
            health.router,
            posts.router,
            comments.router,
            artifacts.router,
            search.router,
            digest.router,
            admin.router,
        ],
        lifespan=lifespan,
        max_body=MAX_BODY_BYTES,
        streamed=("/v1/artifacts",),  # uploads are streamed to disk under AAR_FORUM_MAX_ARTIFACT_BYTES
    )
    app.state.runtime = runtime
    return app


def app_from_env() -> FastAPI:
    """The app factory for ``uvicorn --factory`` worker processes (the parent has migrated already).

    One BLAS thread per process: requests are the parallelism, and OpenBLAS's spinning helper threads made
    the 10k-post cosine scan 40 times slower (10 ms instead of 0.25 ms) on a busy 2-core machine."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    return create_app(migrate=False)
