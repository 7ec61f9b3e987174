"""Prometheus request metrics and the ``/metrics`` route for a FastAPI app."""

from __future__ import annotations

import time

from fastapi import APIRouter, FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest


class _Measure:
    """Plain ASGI middleware (Starlette's ``BaseHTTPMiddleware`` costs about half a millisecond a request)."""

    def __init__(self, app, service: str, requests: Counter, latency: Histogram):
        self.app, self.service, self.requests, self.latency = app, service, requests, latency

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = 500

        async def send_and_note(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.requests.labels(self.service, scope["method"], route, str(status)).inc()
            self.latency.labels(self.service, scope["method"], route).observe(time.perf_counter() - start)


def instrument(app: FastAPI, service: str, registry: CollectorRegistry) -> None:
    """Count and time every request by method, route template and status; serve ``/metrics``."""
    requests = Counter(
        "http_requests_total", "HTTP requests", ["service", "method", "route", "status"], registry=registry
    )
    latency = Histogram(
        "http_request_duration_seconds", "HTTP request latency", ["service", "method", "route"], registry=registry
    )
    app.add_middleware(_Measure, service=service, requests=requests, latency=latency)

    router = APIRouter(tags=["ops"])

    @router.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(router)
