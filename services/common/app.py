"""What every FastAPI service of ours gets: a 400 for a path or query string that is not printable text,
one-line 422 details, Prometheus metrics, ``/metrics``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry

from services.common.inputs import ValidRequestLine
from services.common.metrics import instrument


def service_app(*, title: str, version: str, description: str, service: str, routers: list, lifespan=None) -> FastAPI:
    """A FastAPI app with ``routers`` mounted, the request-line check (``services.common.inputs``), request
    metrics, and validation errors as ``{"detail": str}`` (``lifespan``: an optional async context manager
    run around the app's life)."""
    app = FastAPI(title=title, version=version, description=description, lifespan=lifespan)
    for router in routers:
        app.include_router(router)
    app.add_middleware(ValidRequestLine)  # before ``instrument``: its refusals are counted too
    instrument(app, service, CollectorRegistry())

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in exc.errors()[:20]]
        return JSONResponse(status_code=422, content={"detail": "; ".join(errors) or "invalid request"})

    return app
