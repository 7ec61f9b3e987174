"""Honest methods keep their scores, and a run that ignores its teacher is caught: the teacher-dependence
check over simulated submissions, in process (trusted built-ins, no jail).

Every built-in and three memorising attacks are run once per (teacher of a pool, job seed); simulated
submissions then draw ``--seeds`` distinct teachers, as the scorer does, and are checked with the
scorer's threshold. Also measured: the best distinguishers an attacker with the true labels and the
public reference teacher can build, against the old inverted-teacher control (where they pick it out)
and against the new design (where they can only choose which real run to cheat in). Prints tables;
copy the numbers into docs/benchmarks.md.

    .venv/bin/python -m bench.integrity_builtins [--task rt-polarity] [--seeds 5] [--pool 12] [--submissions 40]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table


def main() -> None:  # noqa: PLR0915 (one benchmark, read top to bottom)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="rt-polarity")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--pool", type=int, default=12)
    parser.add_argument("--job-seeds", type=int, default=2)
    parser.add_argument("--submissions", type=int, default=40)
    args = parser.parse_args()
    os.environ.setdefault("AAR_DEVICE", "cpu")
    from aar.cli.common import quiet_libraries

    quiet_libraries()
    from services.scorer.config import ScorerSettings
    from tests.services.scorer.redteam.harness import load_case
    from w2s.baselines import get_baseline
    from w2s.methods import BUILTIN_METHODS, load_method
    from w2s.metrics import accuracy, pgr
    from w2s.scoring import Run, make_job, prepare_baselines, teacher_dependence, teacher_pool
    from w2s.splits import TEST_SPLITS
    from w2s.tasks import get_task

    settings = ScorerSettings()
    threshold = settings.min_teacher_dependence
    task = get_task(args.task)
    splits = task.splits
    test_inputs = splits["test_public"].inputs + splits["test_private"].inputs
    labels = np.concatenate([splits[name].labels for name in TEST_SPLITS])
    n_public = len(splits["test_public"])
    truth = splits["train_unlabel"].labels.astype(float)
    pool = teacher_pool(args.task, args.pool)
    baselines = prepare_baselines(args.task, pool)
    reference_teacher = np.asarray(get_baseline(task, 0, "cpu")[0].weak_labels)  # what /inputs hands out
    refs = {k: np.asarray(baselines[k].reference) for k in pool}
    transfer_texts = splits["train_unlabel"].inputs.texts
    folder = Path(tempfile.mkdtemp(prefix="aar-bench-"))
    attacks = {}
    for name in ("memorise_labels_reference", "memorise_labels_agreement", "memorise_labels_nudge"):
        case = load_case(name, dict(zip(transfer_texts, reference_teacher, strict=True)))
        (folder / f"{name}.py").write_text(case.source)
        attacks[name] = str(folder / f"{name}.py")

    def predictions(method: str) -> dict[tuple[int, int], np.ndarray]:
        loaded = load_method(attacks.get(method, method))
        out = {}
        for k in pool:
            for j in range(args.job_seeds):
                job = make_job(task, baselines[k], test_inputs, Run(k, 7919 * j + 1, ""))
                out[(k, j)] = np.asarray(loaded.run(job.context("cpu")), dtype=float)
        return out

    def memoriser() -> dict[tuple[int, int], np.ndarray]:
        out = {}
        for k in pool:
            for j in range(args.job_seeds):
                ctx = make_job(task, baselines[k], test_inputs, Run(k, 7919 * j + 1, "")).context("cpu")
                out[(k, j)] = ctx.train_student(targets=truth).predict_proba(ctx.targets)
        return out

    rng = np.random.default_rng(0)
    plans = [
        (list(rng.choice(pool, size=args.seeds, replace=False)), rng.integers(args.job_seeds, size=args.seeds))
        for _ in range(args.submissions)
    ]

    def simulate(preds: dict[tuple[int, int], np.ndarray], swap=None) -> tuple[list[float], float, float, float]:
        """Per submission: lowest dependence, then the flag rate, mean public PGR and mean dependence."""
        lows, pgrs, deps = [], [], []
        for teachers, jobs in plans:
            runs = np.array([preds[(k, j)] for k, j in zip(teachers, jobs, strict=True)])
            if swap is not None:
                runs = swap(teachers, jobs, runs)
            dep = teacher_dependence(runs, np.array([refs[k] for k in teachers]))
            lows.append(min(dep))
            deps += dep
            pgrs.append(
                np.mean(
                    [
                        pgr(
                            accuracy(r[:n_public], labels[:n_public]),
                            baselines[k].splits["test_public"].weak_acc,
                            baselines[k].splits["test_public"].ceiling_acc,
                        )
                        or 0.0
                        for r, k in zip(runs, teachers, strict=True)
                    ]
                )
            )
        return lows, float(np.mean([low < threshold for low in lows])), float(np.mean(pgrs)), float(np.mean(deps))

    machine = f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}"
    runs_each = args.submissions * args.seeds
    table = Table(
        "method",
        "public PGR",
        "dependence mean",
        "lowest run (min over submissions)",
        "flagged",
        title=f"{args.task}: {args.submissions} submissions × {args.seeds} runs ({runs_each} runs), pool of "
        f"{args.pool} teachers, threshold {threshold}, {machine}",
    )
    cache: dict[str, dict[tuple[int, int], np.ndarray]] = {}
    for method in (*BUILTIN_METHODS, *attacks, "memoriser"):
        cache[method] = memoriser() if method == "memoriser" else predictions(method)
        lows, flagged, mean_pgr, mean_dep = simulate(cache[method])
        table.add_row(method, f"{mean_pgr:.3f}", f"{mean_dep:.2f}", f"{min(lows):.2f}", f"{flagged:.0%}")
        print(f"{method}: PGR {mean_pgr:.3f}, dependence {mean_dep:.2f}, lowest {min(lows):.2f}, flagged {flagged:.0%}")

    # Distinguishers with the true labels and the reference teacher: old control vs new design.
    def features(q: np.ndarray) -> np.ndarray:
        hard = q > 0.5
        return np.array(
            [
                np.corrcoef(hard, reference_teacher > 0.5)[0, 1],
                np.mean(hard == (truth > 0.5)),
                hard.mean(),
                np.mean(np.abs(q - 0.5)),
            ]
        )

    teachers = {k: np.asarray(baselines[k].weak_labels) for k in pool}
    real = np.array([features(teachers[k]) for k in pool])
    inverted = np.array([features(1 - teachers[k]) for k in pool])
    distinguishers = {
        "reference correlation > 0": lambda f: f[:, 0] > 0,
        "agreement with true labels > 1/2": lambda f: f[:, 1] > 0.5,
    }
    contrast = Table(
        "distinguisher (true labels + reference teacher)",
        "old: picks the inverted control",
        "new: cheat in the run it trusts most, unflagged",
        title="what a distinguisher buys",
    )
    vanilla, cheat = cache["vanilla"], cache["memoriser"]
    for name, decide in distinguishers.items():
        old_right = np.mean(np.concatenate([decide(real), ~decide(inverted)]))
        column = 0 if "reference" in name else 1

        def swap(ts, js, runs, column=column):
            scores = [features(teachers[k])[column] for k in ts]
            chosen = int(np.argmax(scores))
            runs = runs.copy()
            runs[chosen] = cheat[(ts[chosen], js[chosen])]
            return runs

        lows, flagged, _, _ = simulate(vanilla, swap)
        contrast.add_row(name, f"{old_right:.0%}", f"{1 - flagged:.0%}")
    console = Console(width=160)
    console.print(table)
    console.print(contrast)


if __name__ == "__main__":
    main()
