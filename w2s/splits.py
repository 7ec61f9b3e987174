"""Disjoint, class-stratified splits of a dataset, fixed by the deployment's scoring secret.

``Split`` carries ground-truth labels and stays on the trusted side. ``Inputs`` is the label-free
view that models and methods receive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from w2s.datasets import Dataset, Example
from w2s.errors import W2SError
from w2s.secret import keyed, keyed_hex

SPLIT_NAMES = ("train_label", "train_unlabel", "test_public", "test_private")
TEST_SPLITS = ("test_public", "test_private")


@dataclass(frozen=True)
class Inputs:
    """Items without labels: parallel tuples of ids and texts."""

    ids: tuple[str, ...]
    texts: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, index: np.ndarray | list[int]) -> Inputs:
        """The items at the given positions, in that order."""
        return Inputs(tuple(self.ids[i] for i in index), tuple(self.texts[i] for i in index))

    def __add__(self, other: Inputs) -> Inputs:
        return Inputs(self.ids + other.ids, self.texts + other.texts)


@dataclass(frozen=True)
class Split:
    """A named part of a task's data with its hidden labels (trusted code only)."""

    name: str
    examples: tuple[Example, ...]

    @property
    def inputs(self) -> Inputs:
        return Inputs(tuple(e.id for e in self.examples), tuple(e.text for e in self.examples))

    @property
    def labels(self) -> np.ndarray:
        return np.array([e.label for e in self.examples], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.examples)


def make_splits(dataset: Dataset, sizes: dict[str, int]) -> dict[str, Split]:
    """Partition ``dataset`` into the named parts, each balanced between the two classes.

    Membership, the order inside each split and the item ids (an HMAC of the text) all come from the
    deployment's scoring secret (``w2s.secret``): nothing a method sees (position, id, order of arrival)
    is computable from public constants or correlated with a label. Raises ``W2SError`` if a size is odd
    or the dataset is too small.
    """
    if any(n <= 0 or n % 2 for n in sizes.values()):
        raise W2SError(f"split sizes must be positive and even (balanced classes): {sizes}")
    need = sum(sizes.values()) // 2
    per_class = []
    for label in (0, 1):
        items = [e for e in dataset.examples if e.label == label]
        if len(items) < need:
            raise W2SError(f"dataset {dataset.name!r} has {len(items)} items of class {label}; the splits need {need}")
        per_class.append(sorted(items, key=lambda e: keyed("member", dataset.name, e.id)))
    splits: dict[str, Split] = {}
    start = 0
    for name, n in sizes.items():
        part = [
            Example(keyed_hex("item", dataset.name, e.id), e.text, e.label)
            for e in per_class[0][start : start + n // 2] + per_class[1][start : start + n // 2]
        ]
        splits[name] = Split(name, tuple(sorted(part, key=lambda e: keyed("order", name, e.id))))
        start += n // 2
    return splits
