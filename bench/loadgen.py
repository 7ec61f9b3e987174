"""A small load generator for our HTTP benchmarks: asyncio, keep-alive connections, just enough HTTP/1.1
parsing for JSON answers. (httpx costs the shared 2 cores several times more CPU per request than the
server's own work on a small answer, so it would measure itself.)"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter

import numpy as np


class Connection:
    """One keep-alive HTTP/1.1 connection with just enough parsing for our JSON answers (httpx costs the
    shared 2 cores several times more CPU per request than the server's own work on a small answer)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, token: str, body: dict | None) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        payload = json.dumps(body).encode() if body is not None else b""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        self.writer.write(head.encode() + payload)
        headers = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(headers[0].split()[1])
        length = next(int(h.split(":", 1)[1]) for h in headers if h.lower().startswith("content-length:"))
        await self.reader.readexactly(length)
        return status


async def load(base: str, tokens: list[str], make_request, seconds: float, cap: int, concurrency: int) -> dict:
    """Run ``make_request(rng) -> (method, path, json)`` on ``concurrency`` connections until time or cap."""
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors: Counter[int] = Counter()
    issued = 0
    deadline = time.perf_counter() + seconds

    async def worker(k: int) -> None:
        nonlocal errors, issued
        rng = random.Random(k)
        connection = Connection(host, int(port))
        while time.perf_counter() < deadline and issued < cap:
            issued += 1
            method, path, body = make_request(rng)
            start = time.perf_counter()
            status = await connection.request(method, path, tokens[rng.randrange(len(tokens))], body)
            latencies.append(time.perf_counter() - start)
            if status >= 400:
                errors[status] += 1
        if connection.writer is not None:
            connection.writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    elapsed = time.perf_counter() - began
    ms = np.array(latencies) * 1000
    return {
        "n": len(ms),
        "rate": len(ms) / elapsed,
        "p50": np.percentile(ms, 50),
        "p95": np.percentile(ms, 95),
        "p99": np.percentile(ms, 99),
        "errors": sum(errors.values()),
        "error_codes": " ".join(f"{code}×{n}" for code, n in sorted(errors.items())),
    }
