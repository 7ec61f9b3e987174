"""The scorer's side of the method jail: one seed's ``MethodJob`` in, validated predictions out.

The isolation itself is ``sandbox.jail`` (see docs/sandbox.md, "Method jail"): an allow-listed
filesystem without labels, secrets or the checkout, no network, no privileges, bounded memory,
processes, disk and time. This module only speaks the job protocol: the job's files and the method's
source go into the jail's ``/job``, ``w2s.jobs.run_saved`` runs there, and the predictions come back
through a pipe. Every run looks the same from inside, whatever its submission, seed or purpose (the
control run included): the same paths, no host path of a job folder, nothing naming the submission.
Errors returned to agents carry only the method's own frames and a scrubbed message (``describe_error``).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import aar_core
import w2s
from sandbox import jail
from sandbox.jail import JailUnavailable, describe_error
from sandbox.runtime import RuntimeSpec
from w2s.datasets import LABEL_DATA
from w2s.errors import MethodError
from w2s.jobs import MethodJob

__all__ = [
    "ENGINE_RUNTIME",
    "Cancelled",
    "JailMethodError",
    "JailRun",
    "JailUnavailable",
    "check_prerequisites",
    "run_in_jail",
]
METHOD = "method.py"
NPY_MAGIC = b"\x93NUMPY"
# The engine (and the core settings it builds on) inside the jail, never the dataset packages that ship labels;
# the zygote imports the job runner once.
ENGINE_RUNTIME = RuntimeSpec(
    packages=(Path(w2s.__file__).resolve().parent, Path(aar_core.__file__).resolve().parent),
    forbidden=tuple(LABEL_DATA),
    preload=("numpy", "torch", "w2s.jobs"),
)


class JailMethodError(MethodError):
    """The method failed inside the jail; ``events`` holds what its audit hooks said (advisory) and
    ``refused`` the calls the kernel refused (counted outside the method's process)."""

    def __init__(self, message: str, events: list[dict], refused: dict[str, int] | None = None):
        super().__init__(message)
        self.events, self.refused = events, refused or {}


class Cancelled(Exception):
    """The submission was cancelled while its method ran."""


@dataclass
class JailRun:
    """Predictions of one run, what its audit hooks said (advisory) and what the kernel refused it."""

    predictions: np.ndarray
    events: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    refused: dict[str, int] = field(default_factory=dict)


def check_prerequisites() -> None:
    """Fail early, saying what to install, when the jail cannot work on this machine."""
    jail.check(ENGINE_RUNTIME)


def run_in_jail(
    job: MethodJob,
    source: str,
    *,
    timeout_s: float,
    memory_mb: int,
    should_cancel: Callable[[], bool] = lambda: False,
    device: str = "cpu",
    pids: int = 256,
    tmp_mb: int = 512,
    warm: jail.Jail | None = None,
) -> JailRun:
    """Run ``source`` (a method module) on ``job`` in a fresh jail and return its predictions.

    With ``warm`` (a ``sandbox.jail.Jail`` whose limits replace ``memory_mb``, ``pids``, ``tmp_mb`` and
    ``device``), the run is a fresh process forked by that jail's zygote, the runtime already imported.

    Nothing is written on the host, and the jail shows no host folder (``AAR_HOME`` included): every
    run looks the same from inside, whatever it is for. Raises ``JailMethodError`` when
    the method fails, exceeds its limits or returns nothing usable; ``Cancelled`` when
    ``should_cancel`` turns true; ``JailUnavailable`` when the jail cannot be set up.
    """
    files = {**job.files(), METHOD: source.encode()}
    if warm is not None:
        memory_mb, device = warm.memory_mb, warm.device
    target, args = "w2s.jobs:run_saved", [jail.JOB, f"{jail.JOB}/{METHOD}", device]
    if warm is None:
        result = jail.run(
            files,
            target,
            args,
            runtime=ENGINE_RUNTIME,
            timeout_s=timeout_s,
            memory_mb=memory_mb,
            pids=pids,
            tmp_mb=tmp_mb,
            device=device,
            should_cancel=should_cancel,
        )
    else:
        result = warm.run(files, target, args, timeout_s=timeout_s, should_cancel=should_cancel)
    events, refused = result.events, result.refused

    def failed(message: str) -> JailMethodError:
        return JailMethodError(message, events, refused)

    if result.status == "cancelled":
        raise Cancelled()
    if result.status == "timeout":
        raise failed(f"method exceeded its time limit of {timeout_s:.0f} s")
    if result.memory_killed or (result.status == "error" and result.returncode in (-9, 137) and not result.error):
        raise failed(f"method was killed: it exceeded its memory limit of {memory_mb} MiB")
    if result.status != "ok":
        raise failed(describe_error(result.error, f"method exited with status {result.returncode} without a result"))
    if result.value is None:  # not reached: an ``ok`` run carries its value
        raise failed("method returned no predictions")
    predictions = read_npy(result.value)
    if predictions is None:
        raise failed("method returned unreadable predictions (a plain .npy array is expected)")
    return JailRun(predictions=predictions, events=events, seconds=result.seconds, refused=refused)


def read_npy(data: bytes) -> np.ndarray | None:
    """The 1-D float array held by ``data`` in the plain ``.npy`` format, or ``None``: a zip (``.npz``), a
    pickle or anything else is not accepted."""
    if not data.startswith(NPY_MAGIC):
        return None
    try:
        array = np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    if array.ndim != 1 or array.dtype.kind not in "fiub":
        return None
    return np.asarray(array, dtype=np.float64)
