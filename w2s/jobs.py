"""A method job: everything a method may see for one seed, and nothing more.

The job is the label-free bundle the engine builds per seed. It runs in process (``in_process``) or is
saved to a folder and run elsewhere (``python -m w2s.jobs FOLDER``); the scorer's jail calls ``run_saved``.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from w2s.embeddings import FeatureTable
from w2s.errors import MethodError
from w2s.methods import MethodContext, load_method, validate_predictions
from w2s.models import Classifier, TransformerClassifier, build_classifier
from w2s.splits import Inputs
from w2s.tasks import ModelSpec, TrainConfig

Executor = Callable[["MethodJob"], object]


@dataclass(frozen=True)
class MethodJob:
    """One seed's inputs: transfer items with weak labels, targets, the student's spec, and the strong
    features of exactly those items."""

    seed: int
    transfer: Inputs
    weak_labels: np.ndarray
    targets: Inputs
    student: ModelSpec
    student_train: TrainConfig
    features: FeatureTable | None

    def context(self, device: str) -> MethodContext:
        """The ``MethodContext`` a method's ``run`` receives."""
        spec, config, visible = self.student, self.student_train, self.features

        def build_student(seed: int) -> Classifier:
            return build_classifier(spec, config, seed, device, visible)

        def features(inputs: Inputs) -> np.ndarray:
            if visible is not None:
                return visible.rows(inputs)
            student = build_student(0)
            assert isinstance(student, TransformerClassifier)  # only transformer students have no feature table
            return student.embed(inputs)

        return MethodContext(
            seed=self.seed,
            transfer=self.transfer,
            weak_labels=self.weak_labels,
            targets=self.targets,
            build_student=build_student,
            features=features,
        )

    def save(self, folder: Path) -> None:
        """Write the job as ``job.json`` (+ ``features.npz``) into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in self.files().items():
            (folder / name).write_bytes(data)

    def files(self) -> dict[str, bytes]:
        """The job as file contents: ``job.json`` (+ ``features.npz``), what ``save`` writes."""
        payload = {
            "seed": self.seed,
            "transfer": {"ids": self.transfer.ids, "texts": self.transfer.texts},
            "weak_labels": self.weak_labels.tolist(),
            "targets": {"ids": self.targets.ids, "texts": self.targets.texts},
            "student": self.student.model_dump(),
            "student_train": self.student_train.model_dump(),
        }
        files = {"job.json": json.dumps(payload).encode()}
        if self.features is not None:
            buffer = io.BytesIO()
            np.savez(buffer, ids=np.array(self.features.ids), matrix=self.features.matrix)
            files["features.npz"] = buffer.getvalue()
        return files

    @classmethod
    def load(cls, folder: Path) -> MethodJob:
        """Read a job written by ``save``."""
        payload = json.loads((folder / "job.json").read_text())
        features = None
        if (folder / "features.npz").exists():
            with np.load(folder / "features.npz") as data:
                features = FeatureTable(list(data["ids"]), data["matrix"])
        return cls(
            seed=payload["seed"],
            transfer=Inputs(tuple(payload["transfer"]["ids"]), tuple(payload["transfer"]["texts"])),
            weak_labels=np.asarray(payload["weak_labels"], dtype=np.float64),
            targets=Inputs(tuple(payload["targets"]["ids"]), tuple(payload["targets"]["texts"])),
            student=ModelSpec(**payload["student"]),
            student_train=TrainConfig(**payload["student_train"]),
            features=features,
        )


def in_process(method: str, device: str) -> Executor:
    """Run a (trusted) method in this interpreter."""
    loaded = load_method(method)
    return lambda job: loaded.run(job.context(device))


def run_saved(folder: str, method: str, device: str = "cpu") -> bytes:
    """Run the job saved in ``folder`` with ``method``; its validated predictions as ``.npy`` bytes.

    The scorer's jail calls this (``sandbox.jail``); ``MethodError`` names what is wrong with the output.
    """
    job = MethodJob.load(Path(folder))
    probs = validate_predictions(method, in_process(method, device)(job), len(job.targets))
    buffer = io.BytesIO()
    np.save(buffer, probs, allow_pickle=False)
    return buffer.getvalue()


def main(argv: list[str]) -> int:
    """``python -m w2s.jobs FOLDER METHOD.py [DEVICE]``: run one saved job and write ``predictions.npy``.

    Exit codes: 0 success, 3 the method failed (message on stderr).
    """
    folder, method = Path(argv[0]), argv[1]
    device = argv[2] if len(argv) > 2 else "cpu"
    try:
        (folder / "predictions.npy").write_bytes(run_saved(str(folder), method, device))
    except MethodError as exc:
        sys.stderr.write(f"{exc}\n")
        return 3
    except Exception as exc:  # the method's own failure, reported to the trusted side
        sys.stderr.write(f"method {method!r} raised {type(exc).__name__}: {exc}\n")
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
