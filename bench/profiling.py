"""Where a service's time goes under a benchmark: its processes' CPU seconds, and py-spy samples of them.

``tree_cpu_s`` reads ``/proc``: the CPU seconds (user + system) of a process and all its descendants, so a
phase's server CPU per request can be compared across runs on a shared machine (a rate moves with the
load others put on the cores; CPU per request much less).


py-spy is not a project dependency (``.venv/bin/pip install py-spy``); it attaches to the server's process
and its workers (``--subprocesses``) without pausing them (``--nonblocking``), so the phase's numbers move
little. ``summary`` reads py-spy's raw (collapsed-stack) output: each line is ``frame;frame;… count``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def profiled(pid: int | None, out: Path | None, rate: int = 250):
    """py-spy on ``pid`` and its children for the block (nothing when ``out`` is ``None``)."""
    if out is None or pid is None:
        yield
        return
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    proc = subprocess.Popen(
        [spy, "record", "--pid", str(pid), "--subprocesses", "--nonblocking", "--gil", "--rate", str(rate)]
        + ["--format", "raw", "--output", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        proc.send_signal(2)  # SIGINT: py-spy writes its file and exits
        proc.wait(60)


# What a request pays for, by the frames a sample passes through (a sample may count in several rows).
CATEGORIES = {
    "FastAPI dependency solving": ("solve_dependencies (fastapi/",),
    "Redis (rate limit, generation, events)": ("(redis/",),
    "database (SQLAlchemy, psycopg)": ("(sqlalchemy/", "(psycopg/"),
    "handing work to a worker thread (anyio)": ("run_sync_in_worker_thread (anyio/",),
    "views and JSON (pydantic)": ("(pydantic/", "(pydantic_core/", "post_view (", "comment_view ("),
    "sending the response (uvicorn)": ("RequestResponseCycle.send (uvicorn/",),
    "logging": ("(logging/",),
    "background embedder": ("BackgroundEmbedder",),
}


def summary(raw: Path) -> tuple[int, dict[str, float]]:
    """(samples, {category: share of samples}) of a py-spy raw file; only samples that hold the GIL are
    recorded (``--gil``), so a share times the server's CPU per request is about that category's CPU."""
    counts = dict.fromkeys(CATEGORIES, 0)
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():  # a process's command line with odd bytes spills onto extra lines
            continue
        n = int(count)
        total += n
        for name, patterns in CATEGORIES.items():
            if any(p in stack for p in patterns):
                counts[name] += n
    return total, {name: c / max(1, total) for name, c in counts.items()}


if __name__ == "__main__":
    for path in sys.argv[1:]:
        samples, shares = summary(Path(path))
        print(f"{path}: {samples} samples")
        for name, share in shares.items():
            print(f"  {100 * share:5.1f}%  {name}")


def tree_cpu_s(pid: int) -> float:
    """CPU seconds so far of ``pid`` and every live descendant (children that exited are not counted)."""
    parent: dict[int, int] = {}
    used: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent[int(entry)] = int(fields[1])
        used[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    total = 0.0
    for proc, cpu in used.items():
        ancestor = proc
        while ancestor not in (0, 1, pid):
            ancestor = parent.get(ancestor, 0)
        total += cpu if ancestor == pid else 0.0
    return total
