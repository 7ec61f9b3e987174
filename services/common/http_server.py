"""uvicorn as every service runs it: a deadline on each request's headers.

uvicorn closes a connection that idles between requests (``timeout_keep_alive``), but one that has sent part
of a request line or of its headers is kept until the client goes away: a handful of such clients (slowloris)
hold sockets and file descriptors for as long as they like. ``HeaderDeadline`` closes a connection whose
next request's headers are not complete ``HEADER_TIMEOUT_S`` after it connected or after its last response.
Bodies have their own idle bound (``services.common.inputs.BoundedBody``).
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT_S = 10.0
KEEP_ALIVE_S = 5


class HeaderDeadline(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's headers."""

    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(HEADER_TIMEOUT_S, self._expire)

    def _expire(self) -> None:
        in_flight = self.cycle is not None and not self.cycle.response_complete
        if not in_flight and not self.transport.is_closing():
            self.transport.close()


def server_options() -> dict:
    """The uvicorn options every service's server gets."""
    return {"http": HeaderDeadline, "timeout_keep_alive": KEEP_ALIVE_S}
