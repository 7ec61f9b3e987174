"""Score a method on a task: for each engine-chosen seed, get the baselines, run the method on a
label-free context, and compare its predictions with the hidden test labels."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import numpy as np
from pydantic import BaseModel

from w2s import ENGINE_VERSION
from w2s.baselines import SeedBaseline, SplitBaseline, get_baseline, store, task_features
from w2s.config import get_settings, resolve_device
from w2s.errors import MethodError, W2SError
from w2s.jobs import Executor, MethodJob
from w2s.methods import LoadedMethod, load_method, validate_predictions
from w2s.metrics import accuracy, auroc, mean_ci95, pgr
from w2s.secret import keyed_int, keyed_rng
from w2s.splits import TEST_SPLITS, Inputs
from w2s.tasks import Task, get_task

DEFAULT_SEEDS = 5


def engine_seeds(n: int) -> list[int]:
    """The seeds the engine uses for ``n`` runs. Methods never choose them."""
    if n < 1:
        raise ValueError("at least one seed is needed")
    return list(range(n))


class Stat(BaseModel):
    per_seed: list[float | None]
    mean: float | None


class PGRStat(Stat):
    ci95: float | None
    message: str | None = None


class SplitReport(BaseModel):
    """Every seed's numbers on one test split."""

    weak_acc: Stat
    ceiling_acc: Stat
    student_acc: Stat
    weak_auroc: Stat
    ceiling_auroc: Stat
    student_auroc: Stat
    pgr: PGRStat


class ControlRun(BaseModel):
    """A control run (inverted teacher) and the real run of the same engine seed, on all test items."""

    seed: int
    student_acc: float
    real_student_acc: float | None = None


class ScoreReport(BaseModel):
    """The result of scoring one method: both test splits, every seed; for the trusted side, the
    control runs and the hard ``test_public`` predictions (``pack_hard``) for the probing detector."""

    task: str
    method: str
    seeds: list[int]
    engine_version: str = ENGINE_VERSION
    splits: dict[str, SplitReport]
    controls: list[ControlRun] = []
    public_hard: str | None = None

    def view(self, split: str = "test_public") -> dict[str, object]:
        """The flat JSON view of one split: task, method, seeds, split and each metric."""
        return {
            "task": self.task,
            "method": self.method,
            "seeds": self.seeds,
            "split": split,
            **self.splits[split].model_dump(),
        }


def pack_hard(probs: np.ndarray) -> str:
    """Hard predictions (> 0.5) of items in split order, packed into base64 bits."""
    return base64.b64encode(np.packbits(np.asarray(probs) > 0.5).tobytes()).decode()


def unpack_hard(packed: str, n: int) -> np.ndarray:
    """The inverse of ``pack_hard`` for ``n`` items."""
    return np.unpackbits(np.frombuffer(base64.b64decode(packed), dtype=np.uint8))[:n].astype(bool)


def _stat(values: list[float | None]) -> Stat:
    present = [v for v in values if v is not None]
    return Stat(per_seed=values, mean=float(np.mean(present)) if present else None)


def _pgr_stat(student: list[float], weak: list[float], ceiling: list[float], seeds: list[int]) -> PGRStat:
    values = [pgr(s, w, c) for s, w, c in zip(student, weak, ceiling, strict=True)]
    bad = [seed for seed, v in zip(seeds, values, strict=True) if v is None]
    present = [v for v in values if v is not None]
    message = None
    if bad:
        message = (
            f"PGR undefined for seed(s) {bad}: the strong ceiling does not beat the weak teacher "
            f"(ceiling {np.mean(ceiling):.4f} vs weak {np.mean(weak):.4f} on average)"
        )
    if not present:
        return PGRStat(per_seed=values, mean=None, ci95=None, message=message)
    mean, half = mean_ci95(present)
    return PGRStat(per_seed=values, mean=mean, ci95=half, message=message)


def _add_seed(row: dict[str, list[float | None]], base: SplitBaseline, probs: np.ndarray, labels: np.ndarray) -> None:
    """Append one seed's baselines and the student's scores to a split's columns."""
    for key, value in (
        ("weak_acc", base.weak_acc),
        ("ceiling_acc", base.ceiling_acc),
        ("student_acc", accuracy(probs, labels)),
        ("weak_auroc", base.weak_auroc),
        ("ceiling_auroc", base.ceiling_auroc),
        ("student_auroc", auroc(probs, labels)),
    ):
        row.setdefault(key, []).append(value)


def _split_report(row: dict[str, list[float | None]], seeds: list[int]) -> SplitReport:
    # Accuracies are always defined (only an AUROC can be None).
    student, weak, ceiling = (cast(list[float], row[key]) for key in ("student_acc", "weak_acc", "ceiling_acc"))
    return SplitReport(
        **{key: _stat(values) for key, values in row.items()},
        pgr=_pgr_stat(student, weak, ceiling, seeds),
    )


@dataclass(frozen=True)
class Run:
    """One execution of a method: engine ``seed``'s teacher, or its inverse for a control run.

    ``job_seed`` is what the method is told (``ctx.seed``) and ``salt`` keys the order of its targets:
    both come from the scoring secret, so a method cannot tell a control from a real run, nor which
    engine seed it is on.
    """

    seed: int
    control: bool
    job_seed: int
    salt: str


def plan_runs(seeds: list[int], controls: int, salt: str) -> list[Run]:
    """The real runs of ``seeds`` and ``controls`` control runs (each on a secret-chosen seed), in a
    secret order. ``salt`` (a submission id, for example) makes each submission's plan its own."""
    rng = keyed_rng("plan", salt)
    kinds = [(seed, False) for seed in seeds] + [(int(rng.choice(seeds)), True) for _ in range(controls)]
    order = rng.permutation(len(kinds))
    return [
        Run(seed, control, keyed_int("job-seed", salt, i), f"{salt}/{i}")
        for i, (seed, control) in enumerate(kinds[j] for j in order)
    ]


def inverted_teacher(weak: np.ndarray) -> np.ndarray:
    """The control's teacher: ``1 - p``. Its hard labels are exactly the real teacher's complement, so
    every statistic of the teacher against the strong features (agreement, margins, confidences) is the
    same as the real one's. Its share of positives is mirrored around one half; which side is real
    depends on the secret's teacher, so the share alone tells nothing. (Moving the threshold to keep the
    share changed the hard labels near the boundary, and a method's agreement test told them apart.)"""
    return 1.0 - weak


def make_job(task: Task, baseline: SeedBaseline, targets: Inputs, run: Run | None = None) -> MethodJob:
    """The label-free job of one run: strong features restricted to transfer and target items.

    A control run gets the inverted teacher (``inverted_teacher``): by label-free statistics of its own it
    looks like the real one (the same class balance, nearly the same confidences, as consistent with the
    features), but a method that learns from its teacher scores far below its real runs, while one that
    ignores the teacher scores the same. Without ``run``: a real run told the engine seed.
    """
    run = run or Run(baseline.seed, False, baseline.seed, "")
    transfer = task.splits["train_unlabel"].inputs
    _, strong_features = task_features(task)
    weak = np.asarray(baseline.weak_labels, dtype=np.float64)
    if run.control:
        weak = inverted_teacher(weak)
    return MethodJob(
        seed=run.job_seed,
        transfer=transfer,
        weak_labels=weak,
        targets=targets,
        student=task.strong,
        student_train=task.strong_train,
        features=strong_features.restricted(transfer + targets) if strong_features is not None else None,
    )


def score_method(
    task_name: str,
    method: str,
    n_seeds: int = DEFAULT_SEEDS,
    *,
    device: str | None = None,
    on_progress: Callable[[str], None] | None = None,
    execute: Executor | None = None,
    controls: int = 0,
    salt: str = "",
) -> ScoreReport:
    """Score ``method`` on ``task_name`` over the engine's first ``n_seeds`` seeds.

    By default the method (a built-in name or a file path) is loaded and run in this process. A caller
    that must not run untrusted code here passes ``execute``, which receives each run's label-free
    ``MethodJob`` and returns the raw predictions; ``method`` is then only the report's label. The
    scorer adds ``controls`` control runs (``plan_runs``) mixed among the real ones; their accuracies are
    in ``report.controls``, never in the splits' statistics.

    Baselines come from the cache when warm. New baselines and the run record are written only when
    every run succeeded: a failing method leaves the caches as they were.
    """
    task = get_task(task_name)
    device = resolve_device(device)
    record = execute is None
    if execute is None:
        loaded = load_method(method)
        execute = lambda job: loaded.run(job.context(device))  # noqa: E731
    seeds = engine_seeds(n_seeds)
    progress = on_progress or (lambda _msg: None)
    splits = task.splits
    test_inputs = splits["test_public"].inputs + splits["test_private"].inputs
    labels = np.concatenate([splits[name].labels for name in TEST_SPLITS])
    split_of = np.array([0] * len(splits["test_public"]) + [1] * len(splits["test_private"]))
    baselines: dict[int, SeedBaseline] = {}
    fresh: list[SeedBaseline] = []
    predictions: dict[int, np.ndarray] = {}
    control_runs: list[ControlRun] = []
    for number, run in enumerate(plan_runs(seeds, controls, salt), 1):
        if run.seed not in baselines:
            progress(f"seed {run.seed}: baselines")
            baselines[run.seed], computed = get_baseline(task, run.seed, device, write=False)
            if computed:
                fresh.append(baselines[run.seed])
        order = keyed_rng("targets", run.salt).permutation(len(test_inputs))
        job = make_job(task, baselines[run.seed], test_inputs.take(order), run)
        progress(f"run {number}: method {method}")
        try:
            output = execute(job)
        except MethodError:
            raise
        except Exception as exc:  # the method's own failure, reported with its type and message
            raise MethodError(f"method {method!r} raised {type(exc).__name__}: {exc}") from exc
        probs = np.empty(len(test_inputs))
        probs[order] = validate_predictions(method, output, len(test_inputs))
        if run.control:
            control_runs.append(ControlRun(seed=run.seed, student_acc=accuracy(probs, labels)))
        else:
            predictions[run.seed] = probs
    rows: dict[str, dict[str, list[float | None]]] = {name: {} for name in TEST_SPLITS}
    for seed in seeds:
        for index, name in enumerate(TEST_SPLITS):
            probs = predictions[seed][split_of == index]
            _add_seed(rows[name], baselines[seed].splits[name], probs, splits[name].labels)
    for control in control_runs:
        control.real_student_acc = accuracy(predictions[control.seed], labels)
    mean_public = np.mean([predictions[seed][split_of == 0] for seed in seeds], axis=0)
    report = ScoreReport(
        task=task.name,
        method=method,
        seeds=seeds,
        splits={name: _split_report(row, seeds) for name, row in rows.items()},
        controls=control_runs,
        public_hard=pack_hard(mean_public),
    )
    for baseline in fresh:
        store(task, baseline)
    if record:
        _record_run(task, loaded, report)
    return report


def _record_run(task: Task, method: LoadedMethod, report: ScoreReport) -> None:
    """Save the report in a run folder named from what determines it (task, method source, seeds)."""
    key = hashlib.sha256(json.dumps([task.fingerprint(), method.source_sha, report.seeds]).encode()).hexdigest()
    folder = get_settings().runs_dir / task.name.replace("/", "_") / f"{method.source_sha}-{key[:12]}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "result.json").write_text(report.model_dump_json(indent=2))


def baselines_for(task_name: str, n_seeds: int = DEFAULT_SEEDS, device: str | None = None) -> list[SeedBaseline]:
    """Compute (or read) and cache the baselines of a task for the engine's seeds."""
    task = get_task(task_name)
    device = resolve_device(device)
    return [get_baseline(task, seed, device)[0] for seed in engine_seeds(n_seeds)]


def score_predictions(
    task_name: str, predictions: dict[str, float], n_seeds: int = DEFAULT_SEEDS, device: str | None = None
) -> ScoreReport:
    """Score submitted predictions for every ``test_public`` item against each seed's baselines.

    Raises ``W2SError`` naming missing or unknown item ids.
    """
    task = get_task(task_name)
    split = task.splits["test_public"]
    ids = split.inputs.ids
    missing = [i for i in ids if i not in predictions]
    extra = set(predictions) - set(ids)
    if missing or extra:
        raise W2SError(
            f"predictions must cover exactly the {len(ids)} test_public items: "
            f"{len(missing)} missing, {len(extra)} unknown"
        )
    probs = validate_predictions("predictions", [predictions[i] for i in ids], len(ids))
    device = resolve_device(device)
    seeds = engine_seeds(n_seeds)
    row: dict[str, list[float | None]] = {}
    for seed in seeds:
        _add_seed(row, get_baseline(task, seed, device)[0].splits["test_public"], probs, split.labels)
    return ScoreReport(
        task=task.name,
        method="predictions",
        seeds=seeds,
        splits={"test_public": _split_report(row, seeds)},
        public_hard=pack_hard(probs),
    )
