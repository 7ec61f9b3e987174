"""The search baseline: N offline researchers (a budgeted search over the built-in methods and their
hyper-parameters, sharing results on the forum) on the embedded default, a fixed number of submissions
each, against vanilla on the same secret splits. Prints one table per task with public and private PGR
(so selection on the public split shows) and copies the report's PGR-over-time plot.

    .venv/bin/python -m bench.search_baseline [--tasks rt-polarity,tweet-sentiment] [--agents 3]
        [--experiments 8] [--seeds 5] [--plots docs/campaign]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.offline_campaign import fresh_home, run_offline_campaign


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="rt-polarity,tweet-sentiment")
    parser.add_argument("--agents", type=int, default=3)
    parser.add_argument("--experiments", type=int, default=8, help="submissions per researcher")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--plots", type=Path, default=None, help="copy each task's best-PGR plot here")
    args = parser.parse_args()
    tasks = args.tasks.split(",")
    if len(tasks) > 1:  # one process per task: settings and the secret are read once per process
        for task in tasks:
            subprocess.run([sys.executable, "-m", "bench.search_baseline", *sys.argv[1:], "--tasks", task], check=True)
        return
    console = Console()
    for task in tasks:
        home = fresh_home(args.seeds)  # its own scoring secret: its own splits
        from aar.cli.common import quiet_libraries

        quiet_libraries()
        from w2s.scoring import score_method

        vanilla = score_method(task, "vanilla", args.seeds)
        run = run_offline_campaign(home, task, args.agents, args.experiments)
        curve = json.loads((run.folder / "report" / "curve.json").read_text())["points"]
        title = (
            f"{task}: {args.agents} offline researchers × {args.experiments} submissions, {args.seeds} seeds, "
            f"{os.cpu_count()} cores {platform.machine()}, wall {run.wall_s / 60:.0f} min"
        )
        table = Table("", "public PGR", "private PGR", "scored submissions", title=title)
        pub, priv = vanilla.splits["test_public"].pgr, vanilla.splits["test_private"].pgr
        table.add_row("vanilla", f"{pub.mean:.3f} ± {pub.ci95:.3f}", f"{priv.mean:.3f} ± {priv.ci95:.3f}", "–")
        for i, point in enumerate(curve):  # the rows where the best changed, and the last
            if 0 < i < len(curve) - 1 and point["best_pgr"] == curve[i - 1]["best_pgr"]:
                continue
            table.add_row(
                f"search best after {point['submissions']}",
                f"{point['best_pgr']:.3f}",
                "–" if point["best_private_pgr"] is None else f"{point['best_private_pgr']:.3f}",
                str(point["submissions"]),
            )
        if curve:
            best = curve[-1]
            table.add_row(
                "search − vanilla",
                f"{best['best_pgr'] - pub.mean:+.3f}",
                "–" if best["best_private_pgr"] is None else f"{best['best_private_pgr'] - priv.mean:+.3f}",
                "",
            )
        console.print(table)
        console.print(f"agents ended: {', '.join(sorted(set(run.outcome.values())))}; report: {run.folder / 'report'}")
        if args.plots:
            args.plots.mkdir(parents=True, exist_ok=True)
            shutil.copy(run.folder / "report" / "best_pgr.png", args.plots / f"search-baseline-{task}.png")
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
