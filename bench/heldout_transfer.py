"""Held-out transfer: every built-in and the memorising attacks scored on rt-polarity and on tweet-sentiment
with the scorer's pool teachers, in process. A method that carries one dataset's labels should gain on
that dataset only. Prints a table; copy the numbers into docs/benchmarks.md.

    .venv/bin/python -m bench.heldout_transfer [--seeds 5] [--pool 10]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

TASKS = ("rt-polarity", "tweet-sentiment")
ATTACKS = ("memorise_labels_nudge", "memorise_labels_agreement")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--pool", type=int, default=10)
    args = parser.parse_args()
    os.environ.setdefault("AAR_DEVICE", "cpu")
    from aar.cli.common import quiet_libraries

    quiet_libraries()
    from tests.services.scorer.redteam.harness import load_case
    from w2s.methods import BUILTIN_METHODS
    from w2s.scoring import draw_teachers, score_method, teacher_pool

    folder = Path(tempfile.mkdtemp(prefix="aar-transfer-"))
    methods = {name: name for name in BUILTIN_METHODS}
    for attack in ATTACKS:
        for carried in TASKS:  # the attack carrying each dataset's labels
            case = load_case(attack, task=carried)
            path = folder / f"{attack}-{carried}.py"
            path.write_text(case.source)
            methods[f"{attack} ({carried} labels)"] = str(path)
    table = Table(
        "method",
        *(f"{task} PGR (both test splits)" for task in TASKS),
        title=f"{args.seeds} runs from a pool of {args.pool} teachers per task, {os.cpu_count()} cores, "
        f"{platform.processor() or platform.machine()}",
    )
    for label, method in methods.items():
        cells = []
        for task in TASKS:
            # the same teachers and job seeds for every method on a task: differences are the methods'
            teachers = draw_teachers(teacher_pool(task, args.pool), args.seeds, f"transfer-{task}")
            report = score_method(task, method, teachers=teachers, salt=f"transfer-{task}")
            means = [report.splits[s].pgr for s in ("test_public", "test_private")]
            mean = sum(m.mean or 0.0 for m in means) / 2
            cells.append(f"{mean:.3f} ± {max(m.ci95 or 0.0 for m in means):.3f}")
        table.add_row(label, *cells)
        print(label, cells, flush=True)
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
