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
from collections import Counter
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


def _frame(frame: str) -> str:
    """``function (path/file.py:line)`` → ``file.py:function``."""
    name, _, where = frame.partition(" (")
    return f"{where.rstrip(')').rsplit(':', 1)[0].rsplit('/', 1)[-1]}:{name}"


def summary(raw: Path, top: int = 25) -> tuple[int, list[tuple[str, float, float]]]:
    """(samples in worker processes, [(function, inclusive %, self %)]) for the ``top`` functions by
    inclusive share; the server's supervisor process (no request frames) is left out."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [_frame(f) for f in stack.split(";") if f.strip() and not f.startswith(("process ", "thread "))]
        if not frames or not any(
            "uvicorn" in f or "starlette" in f or "concurrent" in f or "threading" in f for f in frames
        ):
            continue
        n = int(count)
        total += n
        for f in set(frames):
            inclusive[f] += n
        own[frames[-1]] += n
    rows = [(f, 100 * n / total, 100 * own[f] / total) for f, n in inclusive.most_common(top)]
    return total, rows


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
