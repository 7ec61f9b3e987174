"""Exec round-trip latency of the sandbox providers: ``true`` N times, p50/p95/p99 in milliseconds.

Compares the exec server (Docker and bubblewrap providers) with ``docker exec`` through the CLI and
the docker SDK's ``exec_run``, all against the same container. Needs root, bwrap, a running Docker
engine and the sandbox image (``make sandbox-image``). Usage: ``python bench/sandbox_exec.py [N]``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sandbox import SandboxSpec, get_provider


def timed(fn: Callable[[], object], n: int) -> list[float]:
    fn()  # warm up
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def row(name: str, samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=100)
    return f"| {name} | {len(samples)} | {q[49]:.1f} | {q[94]:.1f} | {q[98]:.1f} |"


def main(n: int = 200) -> None:
    root = Path(tempfile.mkdtemp(prefix="aar-bench-"))
    spec = SandboxSpec(label="bench", memory_mb=1024, cpus=1.0)
    rows = []
    docker = get_provider("docker", root)
    with docker.start(spec) as sb:
        rows.append(row("docker provider (exec server, Unix socket)", timed(lambda: sb.exec(["true"]), n)))
        argv = ["docker", "exec", sb.container.id, "true"]
        rows.append(row("`docker exec` CLI", timed(lambda: subprocess.run(argv, check=True), n)))
        rows.append(row("docker SDK `exec_run`", timed(lambda: sb.container.exec_run(["true"]), n)))
    with get_provider("bwrap", root).start(spec) as sb:
        rows.append(row("bwrap provider (exec server, Unix socket)", timed(lambda: sb.exec(["true"]), n)))
    print("| path | calls | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
