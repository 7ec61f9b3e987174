"""Campaign wall time on the embedded default: N offline researchers (bubblewrap sandboxes, the real
scorer and forum started locally), each running K experiments, from `run()` to the written report.

Embedding caches are warm (``$AAR_BENCH_HOME/cache``, default ``~/.aar-bench``), so the numbers are
the campaign's own: services starting, sandboxes, method jobs on the one scorer worker, posts.

    .venv/bin/python -m bench.campaign_wall [--agents 3] [--experiments 2] [--seeds 5]
"""

from __future__ import annotations

import argparse
import os
import platform

import numpy as np
from rich.console import Console
from rich.table import Table

from bench.offline_campaign import fresh_home, run_offline_campaign


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=3)
    parser.add_argument("--experiments", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    home = fresh_home(args.seeds)
    from services.common.localstack import LocalStack
    from services.common.tokens import admin_token
    from services.scorer.client import ScorerClient

    run = run_offline_campaign(home, "rt-polarity", args.agents, args.experiments)
    plan, folder, wall, outcome = run.plan, run.folder, run.wall_s, run.outcome

    with LocalStack(home) as stack:  # read the scorer's record of every job
        stack.start_scorer_api()
        with ScorerClient(stack.scorer_url, admin_token(home, None)) as scorer:
            subs = [s for a in plan.agents for s in scorer.submissions(task="rt-polarity", agent=a.name).data]
    run_s = np.array([(s.finished_at - s.started_at).total_seconds() for s in subs if s.finished_at and s.started_at])
    wait_s = np.array([(s.started_at - s.created_at).total_seconds() for s in subs if s.started_at])
    table = Table("measure", "value", title=f"offline campaign, {os.cpu_count()} cores, {platform.machine()}")
    table.add_row("agents × experiments", f"{args.agents} × {args.experiments} ({args.seeds} runs each, pool teachers)")
    table.add_row("wall time, start to report", f"{wall:.0f} s")
    table.add_row("submissions done", f"{sum(s.status == 'done' for s in subs)} of {len(subs)}")
    table.add_row("scoring time per submission (p50 / max)", f"{np.median(run_s):.0f} s / {run_s.max():.0f} s")
    table.add_row("queue wait per submission (p50 / max)", f"{np.median(wait_s):.0f} s / {wait_s.max():.0f} s")
    table.add_row("agents ended", ", ".join(sorted(set(outcome.values()))))
    table.add_row("report", str(folder / "report"))
    Console().print(table)


if __name__ == "__main__":
    main()
