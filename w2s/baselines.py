"""Per-seed baselines: the weak teacher's labels and accuracy, the strong ceiling's accuracy, and the
reference student's predictions (what a student trained on this teacher predicts for the test items).

Cached on disk under a key of (task fingerprint: data, splits, models, hyper-parameters, engine
version; seed). A warm entry is never recomputed; any change to the key misses the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path

import numpy as np
from filelock import FileLock
from pydantic import BaseModel

from w2s.config import get_settings
from w2s.datasets import load_dataset, text_id
from w2s.embeddings import FeatureTable, dataset_features
from w2s.metrics import accuracy, auroc
from w2s.models import build_classifier
from w2s.splits import TEST_SPLITS, Inputs
from w2s.tasks import Task


class SplitBaseline(BaseModel):
    weak_acc: float
    weak_auroc: float | None
    ceiling_acc: float
    ceiling_auroc: float | None


class SeedBaseline(BaseModel):
    """The teacher's soft labels on ``train_unlabel``, both baselines on each test split, and the reference
    student's P(class 1) for every test item (``test_public`` then ``test_private``, in split order)."""

    seed: int
    weak_labels: list[float]
    splits: dict[str, SplitBaseline]
    reference: list[float]


def cache_key(task: Task, seed: int) -> str:
    return hashlib.sha256(json.dumps([task.fingerprint(), seed]).encode()).hexdigest()[:24]


def cache_path(task: Task, seed: int) -> Path:
    return get_settings().cache_dir / "baselines" / task.name.replace("/", "_") / f"{cache_key(task, seed)}.json"


def load_cached(task: Task, seed: int) -> SeedBaseline | None:
    """The cached baseline for (task, seed), or ``None`` when cold."""
    path = cache_path(task, seed)
    return SeedBaseline.model_validate_json(path.read_text()) if path.exists() else None


def store(task: Task, baseline: SeedBaseline) -> None:
    """Write a baseline atomically to the cache."""
    path = cache_path(task, baseline.seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")  # one per writer
    tmp.write_text(baseline.model_dump_json())
    tmp.replace(path)


_FEATURES: dict[str, tuple[FeatureTable | None, FeatureTable | None]] = {}


def task_features(task: Task) -> tuple[FeatureTable | None, FeatureTable | None]:
    """The cached weak and strong embedding tables of a task's split items, looked up by their opaque
    ids (``None`` for transformer models); built once per process and task fingerprint (the data, the
    splits' secret, the models), not once per run."""
    key = task.fingerprint()
    if key not in _FEATURES:
        _FEATURES[key] = _build_features(task)
    return _FEATURES[key]


def _build_features(task: Task) -> tuple[FeatureTable | None, FeatureTable | None]:
    dataset = load_dataset(task.dataset)
    items = [e for split in task.splits.values() for e in split.examples]
    tables: list[FeatureTable | None] = []
    for spec in (task.weak, task.strong):
        if spec.embedder is None:
            tables.append(None)
            continue
        table = dataset_features(dataset, spec.embedder)
        rows = table.rows(Inputs(tuple(text_id(e.text) for e in items), ()))
        tables.append(FeatureTable([e.id for e in items], rows))
    return tables[0], tables[1]


REFERENCE_SEED = 0  # the same for every teacher: references differ only by what their teachers said


def compute_baseline(task: Task, seed: int, device: str) -> SeedBaseline:
    """Train the teacher on a seeded bootstrap resample of ``train_label``, the ceiling student on
    ``train_unlabel``'s ground truth and the reference student on the teacher's soft labels (naive W2S,
    always seeded alike); evaluate the first two on every test split, keep the reference's predictions."""
    weak_features, strong_features = task_features(task)
    splits = task.splits
    label_split = splits["train_label"]
    boot = np.random.default_rng(seed).integers(0, len(label_split), size=len(label_split))
    teacher = build_classifier(task.weak, task.weak_train, seed, device, weak_features)
    teacher.fit(label_split.inputs.take(boot), label_split.labels[boot].astype(np.float64))
    unlabel = splits["train_unlabel"]
    ceiling = build_classifier(task.strong, task.strong_train, seed, device, strong_features)
    ceiling.fit(unlabel.inputs, unlabel.labels.astype(np.float64), loss="xent")
    weak_labels = teacher.predict_proba(unlabel.inputs)
    reference = build_classifier(task.strong, task.strong_train, REFERENCE_SEED, device, strong_features)
    reference.fit(unlabel.inputs, weak_labels.astype(np.float64), loss="xent")
    results = {}
    referenced: list[float] = []
    for name in TEST_SPLITS:
        split = splits[name]
        weak_probs = teacher.predict_proba(split.inputs)
        strong_probs = ceiling.predict_proba(split.inputs)
        results[name] = SplitBaseline(
            weak_acc=accuracy(weak_probs, split.labels),
            weak_auroc=auroc(weak_probs, split.labels),
            ceiling_acc=accuracy(strong_probs, split.labels),
            ceiling_auroc=auroc(strong_probs, split.labels),
        )
        referenced += reference.predict_proba(split.inputs).tolist()
    return SeedBaseline(seed=seed, weak_labels=weak_labels.tolist(), splits=results, reference=referenced)


def get_baseline(task: Task, seed: int, device: str) -> tuple[SeedBaseline, bool]:
    """The baseline for (task, seed), computed and cached when cold, and whether it was computed now.
    Baselines depend on the task and the seed only, never on a method; processes that need the same cold
    entry at once compute it once (a file lock beside the entry)."""
    cached = load_cached(task, seed)
    if cached is not None:
        return cached, False
    path = cache_path(task, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(path.with_name(f".{path.name}.lock")):
        cached = load_cached(task, seed)  # computed by another process while this one waited
        if cached is not None:
            return cached, False
        baseline = compute_baseline(task, seed, device)
        store(task, baseline)
    return baseline, True
