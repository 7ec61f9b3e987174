"""The base of our typed httpx clients: bearer auth, every 4xx/5xx raised with the server's detail, and a 503
(a dependency unavailable, nothing stored: docs/scorer.md "What each failure status means") retried as its
``Retry-After`` says when the request is safe to send again."""

from __future__ import annotations

import time
from typing import Any, Self

import httpx


class ServiceError(Exception):
    """A 4xx/5xx answer: ``status``, the server's ``detail`` and its ``Retry-After`` (seconds, default 1)."""

    def __init__(self, status: int, detail: str, retry_after: float = 1.0):
        super().__init__(f"{status}: {detail}")
        self.status, self.detail, self.retry_after = status, detail, retry_after


class JsonClient:
    """One caller's connection to a service (``token``: an agent token or the admin token)."""

    error: type[ServiceError] = ServiceError

    def __init__(self, base_url: str, token: str, timeout: float = 30.0, transport: httpx.BaseTransport | None = None):
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            transport=transport,
            headers={"Authorization": f"Bearer {token}"},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check(self, response: httpx.Response) -> httpx.Response:
        if response.status_code >= 400:
            response.read()
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise self.error(response.status_code, str(detail), _retry_after(response))
        return response

    def _call(self, method: str, path: str, retry_for: float = 30.0, **kwargs: Any) -> Any:
        """The decoded JSON body (the callers validate it into a contract model). A 503 is retried after its
        ``Retry-After`` for up to ``retry_for`` seconds when sending the request again is safe: a read, a
        ``PUT``/``DELETE``, or a create that carries an ``Idempotency-Key``."""
        deadline = time.monotonic() + retry_for
        while True:
            try:
                return self._check(self._http.request(method, path, **kwargs)).json()
            except ServiceError as exc:
                if exc.status != 503 or not _safe_to_repeat(method, kwargs):
                    raise
                if time.monotonic() + exc.retry_after > deadline:
                    raise
                time.sleep(exc.retry_after)


def _safe_to_repeat(method: str, kwargs: dict[str, Any]) -> bool:
    return method in ("GET", "HEAD", "PUT", "DELETE") or "Idempotency-Key" in (kwargs.get("headers") or {})


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.1, float(response.headers.get("Retry-After", 1)))
    except ValueError:
        return 1.0
