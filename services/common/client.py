"""The base of our typed httpx clients: bearer auth, and every 4xx/5xx raised with the server's detail."""

from __future__ import annotations

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

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The decoded JSON body (the callers validate it into a contract model)."""
        return self._check(self._http.request(method, path, **kwargs)).json()


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.1, float(response.headers.get("Retry-After", 1)))
    except ValueError:
        return 1.0
