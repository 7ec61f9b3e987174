"""``aar demo``: the main job on the embedded default.

Until the campaign runner lands, it scores every built-in method on the offline CPU task and prints
one results table.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from aar.cli.common import fmt, out, progress_bar, quiet_libraries, user_errors


def demo(
    task: Annotated[str, typer.Option("--task", help="Offline task to score on.")] = "rt-polarity",
    seeds: Annotated[int, typer.Option("--seeds", min=1, max=20)] = 5,
) -> None:
    """Score every built-in W2S method on the offline CPU task (embedded default)."""
    quiet_libraries()
    from w2s.methods import BUILTIN_METHODS
    from w2s.scoring import score_method

    reports = []
    with user_errors(), progress_bar() as bar:
        job = bar.add_task(f"scoring on {task}", total=len(BUILTIN_METHODS) * seeds * 2)
        for method in BUILTIN_METHODS:

            def step(message: str, method: str = method) -> None:
                bar.update(job, description=f"{method}: {message}")
                bar.advance(job)

            reports.append(score_method(task, method, seeds, on_progress=step).view())
    table = Table(
        "method",
        "student acc",
        "AUROC",
        "PGR (mean ± 95% CI)",
        "PGR per seed",
        title=f"W2S methods on {task}: weak {fmt(reports[0]['weak_acc']['mean'], 4)}, "
        f"ceiling {fmt(reports[0]['ceiling_acc']['mean'], 4)}, {seeds} seeds (test_public)",
    )
    for view in sorted(reports, key=lambda v: -(v["pgr"]["mean"] or float("-inf"))):
        pgr = view["pgr"]
        table.add_row(
            view["method"],
            fmt(view["student_acc"]["mean"], 4),
            fmt(view["student_auroc"]["mean"], 4),
            f"{fmt(pgr['mean'])} ± {fmt(pgr['ci95'])}",
            " ".join(fmt(v, 2) for v in pgr["per_seed"]),
        )
    out.print(table)
