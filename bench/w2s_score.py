"""Engine benchmark: a cold first 5-seed score (embeddings + baselines) and warm 5-seed scores of
every built-in method on rt-polarity. Prints a table; copy the numbers into docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import tempfile
import time

from rich.console import Console
from rich.table import Table


def main(seeds: int = 5, task: str = "rt-polarity") -> None:
    home = tempfile.mkdtemp(prefix="aar-bench-")
    os.environ["AAR_HOME"] = home  # cold: empty caches
    os.environ.setdefault("AAR_DEVICE", "cpu")
    from aar.cli.common import quiet_libraries

    quiet_libraries()
    from w2s.methods import BUILTIN_METHODS
    from w2s.scoring import score_method

    table = Table(
        "run",
        "method",
        "seconds",
        "PGR mean ± CI95",
        title=f"{task}, {seeds} seeds, {os.cpu_count()} cores, {platform.processor() or platform.machine()}",
    )
    start = time.perf_counter()
    view = score_method(task, "vanilla", seeds).view()
    table.add_row(
        "cold (embed + baselines + method)",
        "vanilla",
        f"{time.perf_counter() - start:.1f}",
        f"{view['pgr']['mean']:.3f} ± {view['pgr']['ci95']:.3f}",
    )
    for method in BUILTIN_METHODS:
        start = time.perf_counter()
        view = score_method(task, method, seeds).view()
        table.add_row(
            "warm",
            method,
            f"{time.perf_counter() - start:.2f}",
            f"{view['pgr']['mean']:.3f} ± {view['pgr']['ci95']:.3f}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
