"""What a method receives: inputs and weak labels, a student factory and training helpers; no labels."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from w2s.losses import Loss
from w2s.models import Classifier
from w2s.splits import Inputs


class MethodContext:
    """The only object a method sees.

    - ``transfer``: the student's training inputs; ``weak_labels``: the teacher's P(class 1) for them;
    - ``targets``: the inputs to predict (test items of both test splits, shuffled together);
    - ``seed`` and ``rng``: chosen by the engine;
    - ``new_student()`` / ``train_student(...)``: fresh strong students, seeded by the engine;
    - ``features(inputs)``: the strong model's frozen representation of known inputs.
    """

    def __init__(
        self,
        *,
        seed: int,
        transfer: Inputs,
        weak_labels: np.ndarray,
        targets: Inputs,
        build_student: Callable[[int], Classifier],
        features: Callable[[Inputs], np.ndarray],
    ):
        weak = np.array(weak_labels, dtype=np.float64)
        weak.setflags(write=False)
        self._seed = seed
        self._students = 0
        self._build_student = build_student
        self._features = features
        self.transfer = transfer
        self.weak_labels = weak
        self.targets = targets
        self.rng = np.random.default_rng(seed)

    @property
    def seed(self) -> int:
        return self._seed

    def new_student(self) -> Classifier:
        """A fresh, untrained strong student; each call gets its own engine-chosen seed."""
        self._students += 1
        return self._build_student(self._seed * 1000 + self._students)

    def train_student(
        self,
        inputs: Inputs | None = None,
        targets: np.ndarray | None = None,
        loss: str | Loss = "xent",
        sample_weight: np.ndarray | None = None,
    ) -> Classifier:
        """Train a new student (defaults: all transfer inputs on the weak labels) and return it."""
        inputs = self.transfer if inputs is None else inputs
        targets = self.weak_labels if targets is None else np.asarray(targets, dtype=np.float64)
        if len(targets) != len(inputs):
            raise ValueError(f"{len(targets)} targets for {len(inputs)} inputs")
        return self.new_student().fit(inputs, targets, loss=loss, sample_weight=sample_weight)

    def features(self, inputs: Inputs) -> np.ndarray:
        """The strong model's representation of ``inputs`` (transfer or target items only)."""
        return self._features(inputs)
