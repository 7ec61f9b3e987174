"""``aar w2s``: list tasks, compute baselines, score a method."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from aar.cli.common import console, fmt, out, progress_bar, quiet_libraries, user_errors

app = typer.Typer(help="The weak-to-strong engine: tasks, baselines, scoring.", no_args_is_help=True)

SeedsOpt = Annotated[int, typer.Option("--seeds", min=1, max=20, help="How many engine-chosen seeds.")]


@app.command("tasks")
def tasks_cmd(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the registered tasks."""
    from w2s.tasks import TASKS

    if as_json:
        rows = [
            {
                "name": t.name,
                "dataset": t.dataset,
                "weak": t.weak.label,
                "strong": t.strong.label,
                "sizes": t.sizes,
                "description": t.description,
            }
            for t in TASKS.values()
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("task", "weak", "strong", "splits", "description")
    for t in TASKS.values():
        table.add_row(t.name, t.weak.label, t.strong.label, " / ".join(map(str, t.sizes.values())), t.description)
    out.print(table)
    typer.echo("Also: <task>:finetune (full MiniLM fine-tune) and jsonl:<dir> (GPU task from local JSONL).")


@app.command("baselines")
def baselines_cmd(
    task: Annotated[str, typer.Option("--task", help="Task name.")],
    seeds: SeedsOpt = 5,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Compute (or read from cache) the weak and ceiling accuracy of each seed."""
    quiet_libraries()
    from w2s.scoring import baselines_for

    with user_errors():
        with progress_bar() as bar:
            job = bar.add_task(f"baselines {task}", total=1)
            result = baselines_for(task, seeds)
            bar.update(job, completed=1)
    rows = [{"seed": b.seed, **{k: v.model_dump() for k, v in b.splits.items()}} for b in result]
    if as_json:
        typer.echo(json.dumps({"task": task, "seeds": rows}, indent=2))
        return
    table = Table("seed", "split", "weak acc", "ceiling acc", "gap")
    for b in result:
        for name, s in b.splits.items():
            gap = s.ceiling_acc - s.weak_acc
            table.add_row(str(b.seed), name, fmt(s.weak_acc, 4), fmt(s.ceiling_acc, 4), fmt(gap, 4))
    out.print(table)


@app.command("score")
def score_cmd(
    task: Annotated[str, typer.Option("--task", help="Task name.")],
    method: Annotated[str, typer.Option("--method", help="Built-in method name or path to a .py file.")],
    seeds: SeedsOpt = 5,
    split: Annotated[str, typer.Option("--split", help="test_public or test_private.")] = "test_public",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")] = False,
) -> None:
    """Score a method: per-seed accuracy, AUROC and PGR with a 95% CI."""
    quiet_libraries()
    from w2s.scoring import score_method
    from w2s.splits import TEST_SPLITS

    if split not in TEST_SPLITS:
        console.print(f"[bold red]error:[/] --split must be one of {', '.join(TEST_SPLITS)}, not {split!r}")
        raise typer.Exit(2)
    with user_errors():
        with progress_bar() as bar:
            job = bar.add_task(f"{method} on {task}", total=2 * seeds)

            def step(message: str) -> None:
                bar.update(job, description=message)
                bar.advance(job)

            report = score_method(task, method, seeds, on_progress=step)
    view = report.view(split)
    if as_json:
        typer.echo(json.dumps(view, indent=2))
        return
    print_report(view)


def print_report(view: dict) -> None:
    """A per-seed table of one split's numbers."""
    table = Table(
        "seed",
        "weak acc",
        "ceiling acc",
        "student acc",
        "student AUROC",
        "PGR",
        title=f"{view['method']} on {view['task']} ({view['split']})",
    )
    for i, seed in enumerate(view["seeds"]):
        table.add_row(
            str(seed),
            *(
                fmt(view[k]["per_seed"][i], 4)
                for k in ("weak_acc", "ceiling_acc", "student_acc", "student_auroc", "pgr")
            ),
        )
    pgr = view["pgr"]
    ci = f" ± {fmt(pgr['ci95'])}" if pgr["ci95"] is not None else ""
    table.add_row(
        "mean",
        *(fmt(view[k]["mean"], 4) for k in ("weak_acc", "ceiling_acc", "student_acc", "student_auroc")),
        f"{fmt(pgr['mean'])}{ci}",
    )
    out.print(table)
    if pgr["message"]:
        console.print(f"[yellow]{pgr['message']}[/]")


@app.command("compare")
def compare_cmd(
    task: Annotated[str, typer.Option("--task", help="Offline task to score on.")] = "rt-polarity",
    seeds: Annotated[int, typer.Option("--seeds", min=1, max=20)] = 5,
) -> None:
    """Score every built-in W2S method on a task and print one table, best PGR first."""
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

            reports.append(score_method(task, method, seeds, on_progress=step))
    first = reports[0].splits["test_public"]
    table = Table(
        "method",
        "student acc",
        "AUROC",
        "PGR (mean ± 95% CI)",
        "PGR per seed",
        title=f"W2S methods on {task}: weak {fmt(first.weak_acc.mean, 4)}, "
        f"ceiling {fmt(first.ceiling_acc.mean, 4)}, {seeds} seeds (test_public)",
    )
    for report in sorted(reports, key=lambda r: -(r.splits["test_public"].pgr.mean or float("-inf"))):
        split = report.splits["test_public"]
        pgr = split.pgr
        table.add_row(
            report.method,
            fmt(split.student_acc.mean, 4),
            fmt(split.student_auroc.mean, 4),
            f"{fmt(pgr.mean)} ± {fmt(pgr.ci95)}",
            " ".join(fmt(v, 2) for v in pgr.per_seed),
        )
    out.print(table)
