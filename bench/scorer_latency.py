"""Scorer benchmark against real processes on 127.0.0.1: submission latency and throughput (p50/p99)
under concurrent clients (one agent each), and queue-to-start latency (created → claimed by an idle worker).

Runs the production column (fresh Postgres database + a private Redis) and the embedded default
(SQLite + filesystem queue). Caches live in ``$AAR_BENCH_HOME`` (default ``~/.aar-bench``) so only the
first run embeds the dataset. Prints a table; copy the numbers into docs/benchmarks.md.

    .venv/bin/python -m bench.scorer_latency [--submissions 200] [--clients 8] [--starts 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
import uuid
from contextlib import ExitStack
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from aar.localstack import LocalStack
from bench.loadgen import load
from services.scorer.client import ScorerClient
from tests.utils.stack import RedisServer, postgres_database

TASK = "rt-polarity"


def percentiles(values_s: list[float]) -> tuple[float, float]:
    ms = np.asarray(values_s) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def queue_to_start(admin: ScorerClient, agent: ScorerClient, predictions: dict, n: int) -> list[float]:
    """Submit one at a time to an idle worker; seconds from ``created_at`` to ``started_at``."""
    delays = []
    for _ in range(n):
        sid = agent.submit_predictions(TASK, predictions).id
        agent.wait(sid, timeout=300, poll=0.05)
        sub = admin.submission(sid)
        delays.append((sub.started_at - sub.created_at).total_seconds())
    return delays


def run_backend(name: str, env: dict[str, str], home: Path, args, table: Table) -> None:
    with LocalStack(home, env, log_dir=home / f"logs-{name}") as stack:
        try:
            stack.start(forum=False)
            admin = ScorerClient(stack.scorer_url, stack.admin_token)
            # One agent per client: an agent's quota row is locked while its submission commits, so one
            # agent's parallel submissions queue behind each other by design.
            tokens = [admin.issue_token(f"bench-{uuid.uuid4().hex[:6]}").token for _ in range(args.clients)]
            agent = ScorerClient(stack.scorer_url, tokens[0])
            ids = [item.id for item in agent.task_inputs(TASK).test_public]
            predictions = {item: 0.9 if i % 2 else 0.1 for i, item in enumerate(ids)}
            # Warm the worker (baselines, imports) before timing it.
            agent.wait(agent.submit_predictions(TASK, predictions).id, timeout=600)
            delays = queue_to_start(admin, agent, predictions, args.starts)
            p50, p99 = percentiles(delays)
            table.add_row(name, "queue → start (idle worker)", str(args.starts), f"{p50:.0f}", f"{p99:.0f}", "—")
            # Stop the worker so the burst measures the API alone, then the method and predictions bodies.
            for service in stack.services:
                if service.name.startswith("scorer-worker"):
                    service.stop()
            method = {"task": TASK, "kind": "method", "source": "def run(ctx):\n    return [0.5] * len(ctx.targets)\n"}
            bodies = [("method", method), ("predictions", {"task": TASK, "kind": "predictions",
                                                           "predictions": predictions})]
            for label, body in bodies:
                burst = asyncio.run(load(stack.scorer_url, tokens, lambda _rng, body=body: ("POST", "/v1/submissions",
                                         body), 120, args.submissions, args.clients))  # fmt: skip
                if burst["errors"]:
                    raise RuntimeError(f"{burst['errors']} submissions were refused")
                table.add_row(name, f"POST {label} ({args.clients} clients)", str(burst["n"]),
                              f"{burst['p50']:.1f}", f"{burst['p99']:.1f}", f"{burst['rate']:.0f}")
        except Exception:
            Console(stderr=True).print(stack.logs())
            raise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--starts", type=int, default=20)
    args = parser.parse_args()
    cache = Path(os.environ.get("AAR_BENCH_HOME", "~/.aar-bench")).expanduser() / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    table = Table("backend", "measure", "n", "p50 ms", "p99 ms", "req/s",
                  title=f"scorer on 127.0.0.1, {os.cpu_count()} cores, {platform.machine()}")
    common = {"AAR_DEVICE": "cpu", "AAR_SCORER_SUBMISSIONS_PER_DAY": "1000000", "AAR_SCORER_SEEDS": "5",
              "AAR_ADMIN_TOKEN": f"bench-admin-{uuid.uuid4().hex}"}
    with ExitStack() as stack:
        redis = RedisServer().start()
        stack.callback(redis.stop)
        database_url = stack.enter_context(postgres_database())
        backends = [
            ("postgres+redis", {**common, "DATABASE_URL": database_url, "REDIS_URL": redis.url}),
            ("embedded (sqlite+fs)", {**common, "DATABASE_URL": "", "REDIS_URL": ""}),
        ]
        for name, env in backends:
            home = Path(tempfile.mkdtemp(prefix="aar-bench-scorer-"))
            (home / "cache").symlink_to(cache, target_is_directory=True)
            run_backend(name, env, home, args, table)
    Console().print(table)


if __name__ == "__main__":
    main()
