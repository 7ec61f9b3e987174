"""Scorer benchmark against real processes on 127.0.0.1: submission latency and throughput (p50/p99)
under concurrent clients (one agent each), and queue-to-start latency (created → claimed by an idle worker).

Runs the production column (fresh Postgres database + a private Redis) and the embedded default
(SQLite + filesystem queue), then the side-by-side row: submit → verified PGR of the vanilla method on
the embedded default (idle, warm worker) against ``aar w2s score --task rt-polarity --method vanilla``
with the same seeds, scoring secret and cache. Caches live in ``$AAR_BENCH_HOME`` (default
``~/.aar-bench``) so only the first run embeds the dataset. Prints tables; copy the numbers into
docs/benchmarks.md.

    .venv/bin/python -m bench.scorer_latency [--submissions 200] [--clients 8] [--starts 20] [--only-ratio]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from bench.loadgen import load
from services.common.localstack import LocalStack
from services.scorer.client import ScorerClient
from tests.utils.stack import RedisServer, postgres_database

TASK = "rt-polarity"
VANILLA = "def run(ctx):\n    return ctx.train_student().predict_proba(ctx.targets)\n"


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
            bodies = [
                ("method", method),
                ("predictions", {"task": TASK, "kind": "predictions", "predictions": predictions}),
            ]
            for label, body in bodies:
                burst = asyncio.run(
                    load(
                        stack.scorer_url,
                        tokens,
                        lambda _rng, body=body: ("POST", "/v1/submissions", body),
                        120,
                        args.submissions,
                        args.clients,
                    )
                )
                if burst["errors"]:
                    raise RuntimeError(f"{burst['errors']} submissions were refused")
                table.add_row(
                    name,
                    f"POST {label} ({args.clients} clients)",
                    str(burst["n"]),
                    f"{burst['p50']:.1f}",
                    f"{burst['p99']:.1f}",
                    f"{burst['rate']:.0f}",
                )
        except Exception:
            Console(stderr=True).print(stack.logs())
            raise


def scorer_vs_engine(env: dict[str, str], home: Path, seeds: int) -> Table:
    """Wall seconds of one vanilla submission (submit → verified PGR) on a warm, idle embedded scorer and
    of ``aar w2s score`` in a subprocess sharing its ``AAR_HOME`` (so its caches) and scoring secret."""
    with LocalStack(home, env, log_dir=home / "logs-ratio") as stack:
        try:
            stack.start(forum=False)
            admin = ScorerClient(stack.scorer_url, stack.admin_token)
            agent = ScorerClient(stack.scorer_url, admin.issue_token(f"bench-{uuid.uuid4().hex[:6]}").token)
            warm = agent.wait(agent.submit_method(TASK, VANILLA).id, timeout=900)  # baselines, imports
            if warm.status != "done":
                raise RuntimeError(f"warm-up submission ended {warm.status}: {warm.error}")
            start = time.perf_counter()
            sub = agent.wait(agent.submit_method(TASK, VANILLA).id, timeout=900, poll=0.05)
            scorer_s = time.perf_counter() - start
            if sub.status != "done" or sub.result is None:
                raise RuntimeError(f"timed submission ended {sub.status}: {sub.error}")
        except Exception:
            Console(stderr=True).print(stack.logs())
            raise
        # The scorer is idle again; the engine command runs on the same machine and cache.
        command = [
            str(Path(sys.executable).with_name("aar")),
            "w2s",
            "score",
            "--task",
            TASK,
            "--method",
            "vanilla",
            "--seeds",
            str(seeds),
            "--json",
        ]
        start = time.perf_counter()
        done = subprocess.run(command, env=stack.env, capture_output=True, text=True, check=True)
        engine_s = time.perf_counter() - start
    engine_pgr = json.loads(done.stdout)["pgr"]["mean"]
    ratio = scorer_s / engine_s
    per_run = (scorer_s / seeds) / (engine_s / seeds)
    table = Table("path", "runs", "seconds", "PGR", title=f"vanilla on {TASK}: scorer vs engine command")
    table.add_row(
        "scorer: submit → verified PGR (embedded, idle)",
        f"{seeds} (pool teachers)",
        f"{scorer_s:.1f}",
        f"{sub.result.pgr:.3f}",
    )
    table.add_row(f"aar w2s score --seeds {seeds} (subprocess)", str(seeds), f"{engine_s:.1f}", f"{engine_pgr:.3f}")
    table.add_row("ratio scorer / engine", "", f"{ratio:.2f}×", "")
    table.add_row("ratio per run (scorer s/run ÷ engine s/run)", "", f"{per_run:.2f}×", "")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--starts", type=int, default=20)
    parser.add_argument("--only-ratio", action="store_true", help="only the scorer vs engine command row")
    args = parser.parse_args()
    cache = Path(os.environ.get("AAR_BENCH_HOME", "~/.aar-bench")).expanduser() / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    table = Table(
        "backend",
        "measure",
        "n",
        "p50 ms",
        "p99 ms",
        "req/s",
        title=f"scorer on 127.0.0.1, {os.cpu_count()} cores, {platform.machine()}",
    )
    common = {
        "AAR_DEVICE": "cpu",
        "AAR_SCORER_SUBMISSIONS_PER_DAY": "1000000",
        "AAR_SCORER_SEEDS": "5",
        "AAR_ADMIN_TOKEN": f"bench-admin-{uuid.uuid4().hex}",
    }
    seeds = int(common["AAR_SCORER_SEEDS"])
    embedded = {**common, "DATABASE_URL": "", "REDIS_URL": "", "AAR_SCORING_SECRET": secrets.token_hex(16)}
    if args.only_ratio:
        Console().print(scorer_vs_engine(embedded, bench_home(cache), seeds))
        return
    with ExitStack() as stack:
        redis = RedisServer().start()
        stack.callback(redis.stop)
        database_url = stack.enter_context(postgres_database())
        backends = [
            ("postgres+redis", {**common, "DATABASE_URL": database_url, "REDIS_URL": redis.url}),
            ("embedded (sqlite+fs)", {**common, "DATABASE_URL": "", "REDIS_URL": ""}),
        ]
        for name, env in backends:
            run_backend(name, env, bench_home(cache), args, table)
    Console().print(table)
    Console().print(scorer_vs_engine(embedded, bench_home(cache), seeds))


def bench_home(cache: Path) -> Path:
    """A fresh ``AAR_HOME`` sharing the benchmark's embedding and baseline cache."""
    home = Path(tempfile.mkdtemp(prefix="aar-bench-scorer-"))
    (home / "cache").symlink_to(cache, target_is_directory=True)
    return home


if __name__ == "__main__":
    main()
