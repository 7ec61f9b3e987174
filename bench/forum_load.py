"""Forum load benchmark: 10k posts, a real ``aar forum api`` process on 127.0.0.1, read and write throughput
with p99 latency, and search p95. Prints a table; copy the numbers into docs/benchmarks.md.

    .venv/bin/python -m bench.forum_load                      # Postgres + Redis (the local Postgres 15)
    .venv/bin/python -m bench.forum_load --backend embedded   # SQLite, no Redis

Bounded: each phase stops after ``--seconds`` or its request cap, whichever comes first. Only loopback
traffic. The load generator (`bench/loadgen.py`, asyncio) runs on the same machine as the server and shares its cores.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

import httpx
import typer
from rich.console import Console
from rich.table import Table

from bench.loadgen import load
from bench.profiling import profiled, tree_cpu_s
from services.common.localstack import Service, free_port, wait_until
from tests.utils.stack import RedisServer, postgres_database

IDEAS = [
    "auxiliary confidence loss",
    "label smoothing",
    "early stopping",
    "bootstrapping through a medium model",
    "filtering low-margin weak labels",
    "temperature scaling the teacher",
    "class reweighting",
    "mixup",
    "co-training two students",
    "curriculum by teacher margin",
    "pseudo-label refinement",
    "weight decay sweep",
    "consistency under word dropout",
    "ensembling weak teachers",
    "linear probe on frozen features",
]
WORDS = [
    "student",
    "teacher",
    "weak",
    "labels",
    "seed",
    "variance",
    "transfer",
    "split",
    "accuracy",
    "ceiling",
    "calibration",
    "margin",
    "epoch",
    "loss",
    "warm-up",
    "embedding",
    "head",
    "gap",
    "noise",
    "bias",
]
TYPES = ["result", "negative-result", "hypothesis", "insight", "question", "error"]
QUERIES = [
    "logconf",
    "make the student trust its own confident predictions",
    "label smoothing weak labels",
    "variance across seeds",
    "teacher calibration",
    "stop training early",
    "bootstrapping",
    "mixup PGR",
]


def post_body(rng: random.Random, i: int) -> dict:
    idea = rng.choice(IDEAS)
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 90)))
    return {
        "type": rng.choice(TYPES),
        "title": f"{idea.capitalize()} run {i}",
        "body": f"We tried {idea} on rt-polarity. {words}. PGR {rng.uniform(0.4, 0.7):.2f} over 5 seeds.",
        "tags": rng.sample(["loss", "data", "teacher", "training", "seeds", "logconf", "calibration"], 2),
    }


def seed(url: str, authors: list[int], n: int, rng: random.Random) -> None:
    """Insert ``n`` posts directly (the write phase measures the API's own inserts)."""
    from services.common.db import session_scope
    from services.forum.contract import PostCreate
    from services.forum.db import crud

    for start in range(0, n, 1000):
        with session_scope(url) as session:
            for i in range(start, min(n, start + 1000)):
                body = PostCreate(**post_body(rng, i))
                crud.create_post(session=session, author_id=rng.choice(authors), body=body, verified=None, artifacts=[])


def hello_app():
    """A one-route FastAPI app: what this machine and load generator allow any Python service."""
    from fastapi import FastAPI

    app = FastAPI()
    app.get("/hello")(lambda: {"ok": True})
    return app


def calibrate(workers: int, seconds: float, concurrency: int) -> dict:
    """Throughput of ``hello_app`` under the same load, same worker count."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.forum_load:hello_app",
            "--factory",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        wait_until(lambda: _up(port), 60, "the calibration app")
        cpu = tree_cpu_s(proc.pid)
        result = asyncio.run(
            load(f"http://127.0.0.1:{port}", ["-"], lambda r: ("GET", "/hello", None), seconds, 30_000, concurrency)
        )
        return {**result, "cpu_ms": 1000 * (tree_cpu_s(proc.pid) - cpu) / max(1, result["n"])}
    finally:
        proc.terminate()
        proc.wait(20)


def _up(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/hello", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def main(
    backend: str = typer.Option("postgres", help="postgres (with Redis) or embedded (SQLite, no Redis)"),
    posts: int = typer.Option(10_000, help="posts seeded before measuring"),
    workers: int = typer.Option(2, help="uvicorn worker processes (1 for embedded)"),
    seconds: float = typer.Option(15.0, help="time bound per phase"),
    concurrency: int = typer.Option(8, help="in-flight requests for reads and writes"),
    profile: Annotated[
        Path | None, typer.Option(help="folder for py-spy profiles of the read and write phases")
    ] = None,
) -> None:
    home = Path(tempfile.mkdtemp(prefix="aar-forum-bench-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)  # also when a phase fails
    admin = f"admin-{uuid.uuid4().hex}"
    env = {
        **os.environ,
        "AAR_HOME": str(home),
        "AAR_ADMIN_TOKEN": admin,
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "AAR_FORUM_WRITES_PER_MINUTE": "1000000",
        "AAR_FORUM_READS_PER_MINUTE": "1000000",
    }
    rng = random.Random(0)
    console = Console()
    calibration = calibrate(workers if backend == "postgres" else 1, seconds, concurrency)
    redis = RedisServer().start() if backend == "postgres" else None
    with postgres_database() if redis else nullcontext() as db_url:
        if redis:
            env.update(DATABASE_URL=db_url, REDIS_URL=redis.url)
        url_for_seed = db_url or f"sqlite:///{home / 'forum.db'}"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        args = ["forum", "api", "--port", str(port), "--workers", str(workers if backend == "postgres" else 1)]
        service = Service("forum-api", args, env, home / "api.log", f"{base}/healthz").start()
        try:
            service.wait_healthy(120)
            auth = {"Authorization": f"Bearer {admin}"}
            tokens = [
                httpx.post(f"{base}/v1/admin/tokens", json={"agent": f"agent-{i}"}, headers=auth).json()["token"]
                for i in range(50)
            ]
            from sqlalchemy import select, text

            from services.common.db import session_scope
            from services.forum.db.models import Agent

            with session_scope(url_for_seed) as session:
                authors = list(session.scalars(select(Agent.id)))
            began = time.perf_counter()
            seed(url_for_seed, authors, posts, rng)
            seeded_s = time.perf_counter() - began
            wait_until(
                lambda: httpx.get(f"{base}/v1/search/status", headers=auth).json()["pending"] == 0,
                600,
                "embeddings",
                poll=1,
            )
            embedded_s = time.perf_counter() - began - seeded_s
            with session_scope(url_for_seed) as session:  # planner statistics, as autovacuum would gather them
                session.execute(text("ANALYZE"))
            ids = [p for p in range(1, posts + 1)]

            def read(r: random.Random):
                choice = r.random()
                if choice < 0.5:
                    return "GET", f"/v1/posts/{r.choice(ids)}", None
                if choice < 0.8:
                    return "GET", f"/v1/posts?limit=20&sort={r.choice(['new', 'top', 'active'])}", None
                if choice < 0.9:
                    return "GET", f"/v1/posts?limit=20&tag={r.choice(['loss', 'data', 'teacher'])}", None
                return "GET", f"/v1/posts/{r.choice(ids)}/comments", None

            def write(r: random.Random):
                choice = r.random()
                if choice < 0.4:
                    return "POST", "/v1/posts", post_body(r, r.randrange(10**6))
                if choice < 0.7:
                    return "POST", f"/v1/posts/{r.choice(ids)}/comments", {"body": "Did you try more seeds?"}
                return "PUT", f"/v1/posts/{r.choice(ids)}/vote", {"value": r.choice([1, -1])}

            def search(r: random.Random):
                return "GET", f"/v1/search?q={quote(r.choice(QUERIES))}&k=10", None

            if profile:
                profile.mkdir(parents=True, exist_ok=True)
            assert service.proc is not None
            pid = service.proc.pid

            def phase(make_request, cap: int, in_flight: int, name: str) -> dict:
                """One phase's numbers, with the server's CPU per request (its processes only)."""
                cpu = tree_cpu_s(pid)
                with profiled(pid, profile / f"{backend}-{name}.txt" if profile else None):
                    result = asyncio.run(load(base, tokens, make_request, seconds, cap, in_flight))
                return {**result, "cpu_ms": 1000 * (tree_cpu_s(pid) - cpu) / max(1, result["n"])}

            rows = [
                ("reads (get, list, filter, thread)", phase(read, 30_000, concurrency, "reads")),
                ("writes (post, comment, vote)", phase(write, 10_000, concurrency, "writes")),
                ("search (hybrid, k=10), 1 in flight", phase(search, 3_000, 1, "search-1")),
                ("search (hybrid, k=10), 4 in flight", phase(search, 3_000, 4, "search-4")),
            ]
        except Exception:
            console.print(service.tail())
            raise
        finally:
            service.stop()
            if redis:
                redis.stop()
    table = Table(
        "phase",
        "requests",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "errors",
        "server CPU ms/req",
        title=f"forum, {backend}, {posts} posts, {workers if backend == 'postgres' else 1} worker(s), "
        f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}",
    )
    for name, r in [("calibration: FastAPI hello world", calibration), *rows]:
        table.add_row(
            name,
            str(r["n"]),
            f"{r['rate']:.0f}",
            f"{r['p50']:.1f}",
            f"{r['p95']:.1f}",
            f"{r['p99']:.1f}",
            f"{r['errors']} ({r['error_codes']})" if r["errors"] else "0",
            f"{r['cpu_ms']:.2f}" if "cpu_ms" in r else "",
        )
    console.print(table)
    console.print(f"seeded {posts} posts in {seeded_s:.1f} s; background embedding took {embedded_s:.1f} s more")


if __name__ == "__main__":
    typer.run(main)
