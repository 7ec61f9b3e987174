"""Honest methods keep their scores: each built-in scored on the secret splits with the scorer's control
runs, its teacher dependence and ceiling check, and how far apart (hard ``test_public`` predictions) two
submissions of honest methods land, which sizes the probing thresholds. In process (trusted built-ins,
no jail). Prints two tables; copy the numbers into docs/benchmarks.md.

    .venv/bin/python -m bench.integrity_builtins [--task rt-polarity] [--seeds 5]
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform

import numpy as np
from rich.console import Console
from rich.table import Table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="rt-polarity")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("AAR_DEVICE", "cpu")
    from aar.cli.common import quiet_libraries

    quiet_libraries()
    from services.scorer.config import ScorerSettings
    from services.scorer.integrity import beyond_ceiling, hamming, teacher_dependence
    from w2s.methods import BUILTIN_METHODS
    from w2s.scoring import score_method, unpack_hard
    from w2s.tasks import get_task

    settings = ScorerSettings()
    n_public = len(get_task(args.task).splits["test_public"])
    machine = f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}"
    scores = Table(
        "method",
        "PGR mean ± CI95",
        "private PGR",
        "teacher dependence",
        "flags",
        title=f"{args.task}, {args.seeds} seeds + {settings.controls} controls, {machine}",
    )
    hard: dict[str, list[np.ndarray]] = {}
    for method in BUILTIN_METHODS:
        reports = [
            score_method(args.task, method, args.seeds, controls=settings.controls, salt=f"{method}-{i}")
            for i in range(2)
        ]
        hard[method] = [unpack_hard(r.public_hard, n_public) for r in reports]
        report = reports[0]
        dependence = teacher_dependence(report)
        flags = []
        if dependence is not None and dependence < settings.min_teacher_dependence:
            flags.append("teacher_independent")
        if beyond_ceiling(report, settings.ceiling_margin):
            flags.append("beyond_ceiling")
        pgr = report.splits["test_public"].pgr
        private = report.splits["test_private"].pgr
        print(f"{method}: PGR {pgr.mean:.3f}, dependence {dependence:.2f}, flags {flags}", flush=True)
        scores.add_row(
            method,
            f"{pgr.mean:.3f} ± {pgr.ci95:.3f}",
            f"{private.mean:.3f} ± {private.ci95:.3f}",
            f"{dependence:.2f}",
            ",".join(flags) or "-",
        )
    distances = Table("pair", f"items apart (of {n_public})", title="hard test_public predictions")
    for method in BUILTIN_METHODS:
        distances.add_row(f"{method} twice", str(hamming(*hard[method])))
    for a, b in itertools.combinations(BUILTIN_METHODS, 2):
        distances.add_row(f"{a} vs {b}", str(hamming(hard[a][0], hard[b][0])))
    console = Console()
    console.print(scores)
    console.print(distances)


if __name__ == "__main__":
    main()
