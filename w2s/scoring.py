"""Score a method on a task: for each teacher (an engine seed, or a secret pool seed on the scorer), get
the baselines, run the method on a label-free context, and compare its predictions with the hidden test
labels. Also measure, without any label, how much the method's predictions follow its teacher."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import cast

import numpy as np
from pydantic import BaseModel

from w2s import ENGINE_VERSION
from w2s.baselines import SeedBaseline, SplitBaseline, get_baseline, task_features
from w2s.config import get_settings, resolve_device
from w2s.errors import MethodError, W2SError
from w2s.jobs import Executor, MethodJob
from w2s.methods import LoadedMethod, load_method, validate_predictions
from w2s.metrics import accuracy, auroc, mean_ci95, pgr
from w2s.secret import keyed_int, keyed_rng
from w2s.splits import TEST_SPLITS, Inputs
from w2s.tasks import Task, get_task

DEFAULT_SEEDS = 5
ENGINE_SEED_LIMIT = 1000  # engine seeds are small; the scorer's pool seeds are never below this


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


class ScoreReport(BaseModel):
    """The result of scoring one method: both test splits, one value per teacher (``seeds``); for the
    trusted side, the teacher dependence of each run (``teacher_dependence``), how far apart the runs'
    hard ``test_public`` predictions are (``spread``) and their majority (``public_hard``, ``pack_hard``)
    for the probing detector."""

    task: str
    method: str
    seeds: list[int]
    engine_version: str = ENGINE_VERSION
    splits: dict[str, SplitReport]
    dependence: list[float] | None = None
    spread: int | None = None
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
    """One execution of a method on one teacher (a seed of ``compute_baseline``).

    ``job_seed`` is what the method is told (``ctx.seed``) and ``salt`` keys the order of its targets:
    both come from the scoring secret, so a method cannot tell which teacher it was given.
    """

    teacher: int
    job_seed: int
    salt: str


def plan_runs(teachers: list[int], salt: str) -> list[Run]:
    """One run per teacher, in a secret order. ``salt`` (a submission id, for example) makes each
    submission's plan its own."""
    order = keyed_rng("plan", salt).permutation(len(teachers))
    return [Run(teachers[j], keyed_int("job-seed", salt, i), f"{salt}/{i}") for i, j in enumerate(order)]


def teacher_pool(task_name: str, size: int) -> list[int]:
    """The scorer's pool of ``size`` teacher seeds for a task: secret (keyed by the scoring secret), and
    never one of the engine's own seeds, whose seed-0 teacher is handed to every agent as a reference."""
    pool: list[int] = []
    k = 0
    while len(pool) < size:
        seed = keyed_int("teacher-pool", task_name, k)
        k += 1
        if seed >= ENGINE_SEED_LIMIT and seed not in pool:
            pool.append(seed)
    return pool


def draw_teachers(pool: list[int], n: int, salt: str) -> list[int]:
    """``n`` distinct teachers of ``pool`` for one submission, drawn with the secret and ``salt``."""
    if n > len(pool):
        raise ValueError(f"{n} runs need at least {n} teachers in the pool, not {len(pool)}")
    chosen = keyed_rng("draw", salt).choice(len(pool), size=n, replace=False)
    return sorted(pool[int(i)] for i in chosen)


def teacher_dependence(predictions: np.ndarray, references: np.ndarray) -> list[float]:
    """How much each run's predictions follow its teacher, with no label: for run ``r``, the correlation
    over every target item between how the method's predictions differ from its mean over the other runs
    and how the reference student's do (``SeedBaseline.reference``: a fixed student trained on each
    run's teacher). A method that learns from its teacher moves with it (0.6–1.0 for the built-ins); one
    that ignores its teacher in a run moves by its own noise only (about 0). ``predictions`` and
    ``references`` are (runs × items) arrays; a run whose predictions do not move at all scores 0."""
    n = len(predictions)
    if n < 2:
        return []
    values = []
    for r in range(n):
        others = [j for j in range(n) if j != r]
        moved = predictions[r] - predictions[others].mean(axis=0)
        expected = references[r] - references[others].mean(axis=0)
        moved, expected = moved - moved.mean(), expected - expected.mean()
        scale = float(np.linalg.norm(moved) * np.linalg.norm(expected))
        values.append(float(np.dot(moved, expected) / scale) if scale > 0 else 0.0)
    return values


def spread(hard: np.ndarray) -> int:
    """The most items on which one run's hard predictions differ from the runs' majority (``hard``: runs ×
    items, booleans): 0 when every run predicted the same, whatever its teacher."""
    majority = hard.mean(axis=0) > 0.5
    return int(max(np.count_nonzero(row != majority) for row in hard))


def make_job(task: Task, baseline: SeedBaseline, targets: Inputs, run: Run | None = None) -> MethodJob:
    """The label-free job of one run: its teacher's soft labels on the transfer items, the strong features
    restricted to transfer and target items. Without ``run``: a run told its teacher's seed."""
    run = run or Run(baseline.seed, baseline.seed, "")
    transfer = task.splits["train_unlabel"].inputs
    _, strong_features = task_features(task)
    return MethodJob(
        seed=run.job_seed,
        transfer=transfer,
        weak_labels=np.asarray(baseline.weak_labels, dtype=np.float64),
        targets=targets,
        student=task.strong,
        student_train=task.strong_train,
        features=strong_features.restricted(transfer + targets) if strong_features is not None else None,
    )


def _run_all(one: Callable[[int, Run], np.ndarray], plan: list[Run], parallel: int) -> list[np.ndarray]:
    """Every run's predictions, in plan order; up to ``parallel`` at once. The first failure is raised at
    once, without waiting for the runs still going."""
    if parallel <= 1:
        return [one(number, run) for number, run in enumerate(plan, 1)]
    pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="run")
    futures = [pool.submit(one, number, run) for number, run in enumerate(plan, 1)]
    done, _ = wait(futures, return_when=FIRST_EXCEPTION)
    failed = [f for f in futures if f in done and f.exception() is not None]
    pool.shutdown(wait=not failed, cancel_futures=True)
    error = failed[0].exception() if failed else None
    if error is not None:
        raise error
    return [f.result() for f in futures]


def prepare_baselines(task_name: str, teachers: list[int], device: str | None = None) -> dict[int, SeedBaseline]:
    """The baselines of ``teachers``, computed and cached first where cold: trusted work, done before (and
    apart from) any method's run."""
    task = get_task(task_name)
    device = resolve_device(device)
    return {seed: get_baseline(task, seed, device)[0] for seed in teachers}


def score_method(
    task_name: str,
    method: str,
    n_seeds: int = DEFAULT_SEEDS,
    *,
    device: str | None = None,
    on_progress: Callable[[str], None] | None = None,
    execute: Executor | None = None,
    teachers: list[int] | None = None,
    salt: str = "",
    parallel: int = 1,
) -> ScoreReport:
    """Score ``method`` on ``task_name``: one run per teacher, the engine's first ``n_seeds`` seeds unless
    ``teachers`` names them (the scorer draws them from its secret pool, ``draw_teachers``).

    By default the method (a built-in name or a file path) is loaded and run in this process. A caller
    that must not run untrusted code here passes ``execute``, which receives each run's label-free
    ``MethodJob`` and returns the raw predictions, raising ``MethodError`` for the method's own failures;
    anything else it raises is the caller's own (infrastructure) failure and propagates unchanged, never
    blamed on the method. ``method`` is then only the report's label. Every run
    counts alike: there is no control run to pick out. The report's ``dependence`` says how much each
    run's predictions followed its teacher (``teacher_dependence``), measured without labels.

    Baselines are computed and cached first (``prepare_baselines``), independently of the method. With
    ``parallel`` > 1 up to that many runs overlap (``execute`` must be thread-safe); the first failure
    ends the scoring, and the caller stops what still runs (the scorer closes the submission's jail).
    """
    task = get_task(task_name)
    device = resolve_device(device)
    record = execute is None
    if execute is None:
        loaded = load_method(method)

        def execute(job: MethodJob) -> object:
            try:
                return loaded.run(job.context(device))
            except Exception as exc:  # the method's own failure, reported with its type and message
                raise MethodError(f"method {method!r} raised {type(exc).__name__}: {exc}") from exc

    seeds = teachers if teachers is not None else engine_seeds(n_seeds)
    progress = on_progress or (lambda _msg: None)
    progress("baselines")
    baselines = prepare_baselines(task_name, seeds, device)
    splits = task.splits
    test_inputs = splits["test_public"].inputs + splits["test_private"].inputs
    split_of = np.array([0] * len(splits["test_public"]) + [1] * len(splits["test_private"]))
    plan = plan_runs(seeds, salt)

    def one(number: int, run: Run) -> np.ndarray:
        order = keyed_rng("targets", run.salt).permutation(len(test_inputs))
        job = make_job(task, baselines[run.teacher], test_inputs.take(order), run)
        progress(f"run {number} of {len(seeds)}: method {method}")
        output = execute(job)
        probs = np.empty(len(test_inputs))
        probs[order] = validate_predictions(method, output, len(test_inputs))
        return probs

    predictions = dict(zip([run.teacher for run in plan], _run_all(one, plan, parallel), strict=True))
    rows: dict[str, dict[str, list[float | None]]] = {name: {} for name in TEST_SPLITS}
    for seed in seeds:
        for index, name in enumerate(TEST_SPLITS):
            probs = predictions[seed][split_of == index]
            _add_seed(rows[name], baselines[seed].splits[name], probs, splits[name].labels)
    stacked = np.array([predictions[seed] for seed in seeds])
    public = stacked[:, split_of == 0]
    report = ScoreReport(
        task=task.name,
        method=method,
        seeds=seeds,
        splits={name: _split_report(row, seeds) for name, row in rows.items()},
        dependence=teacher_dependence(stacked, np.array([baselines[seed].reference for seed in seeds])),
        spread=spread(public > 0.5),
        public_hard=pack_hard(public.mean(axis=0)),
    )
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
