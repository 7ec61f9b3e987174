"""The method jail: run untrusted method code in a separate, isolated process (bubblewrap).

The jailed process gets every namespace unshared (no network at all: only its own loopback), a fresh
/proc, /tmp and /run, an empty environment, and tmpfs over everything that holds labels or secrets
(``AAR_HOME``, the packages' dataset folders, database state and sockets). It sees only its job
folder, which holds the label-free ``MethodJob`` of one seed. Memory is capped with RLIMIT_AS, time by
killing the process group; ``--die-with-parent`` ends it if the worker dies. Only the trusted scorer,
outside, compares its predictions with the labels.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sandbox.base import SandboxUnavailableError
from sandbox.hidden import hidden_paths
from sandbox.providers.bwrap import check_bwrap, python_roots
from w2s.errors import MethodError
from w2s.jobs import MethodJob

JOB = "/tmp/job"  # the job folder inside the jail


class JailUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces: an infrastructure failure, not the method's."""


class JailMethodError(MethodError):
    """The method failed inside the jail; ``events`` holds what the audit hooks saw."""

    def __init__(self, message: str, events: list[dict]):
        super().__init__(message)
        self.events = events


class Cancelled(Exception):
    """The submission was cancelled while its method ran."""


@dataclass
class JailRun:
    """Predictions of one run and what the audit hooks saw."""

    predictions: np.ndarray
    events: list[dict] = field(default_factory=list)
    seconds: float = 0.0


def check_prerequisites() -> None:
    """Fail early, saying what to install, when the jail cannot work on this machine."""
    try:
        check_bwrap()
    except SandboxUnavailableError as exc:
        raise JailUnavailable(str(exc)) from exc


def bwrap_argv(job_dir: Path, hidden: list[str], audit_fd: int) -> list[str]:
    argv = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    for root in python_roots():  # a checkout or virtualenv under /tmp stays visible over the fresh /tmp
        if Path("/tmp") in root.parents:
            argv += ["--ro-bind", str(root), str(root)]
    for path in hidden:
        argv += ["--tmpfs", path]
    argv += [
        "--bind", str(job_dir), JOB,
        "--unshare-all", "--die-with-parent", "--new-session", "--clearenv",
        "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin",
        "--setenv", "HOME", JOB,
        "--setenv", "HF_HUB_OFFLINE", "1",
        "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
        "--setenv", "PYTHONPATH", os.pathsep.join(p for p in sys.path if p and os.path.isdir(p)),
        "--setenv", "OMP_NUM_THREADS", str(os.cpu_count() or 1),
        "--chdir", JOB,
        "--", sys.executable, "-m", "services.scorer.jail_entry", JOB, f"{JOB}/method.py", str(audit_fd),
        json.dumps(hidden),
    ]  # fmt: skip
    return argv


def run_in_jail(
    job: MethodJob,
    source: str,
    work_dir: Path,
    *,
    home: Path,
    timeout_s: float,
    memory_mb: int,
    should_cancel: Callable[[], bool] = lambda: False,
) -> JailRun:
    """Run ``source`` (a method module) on ``job`` in the jail and return its validated predictions.

    Raises ``MethodError`` when the method fails, exceeds its limits or returns nothing usable;
    ``Cancelled`` when ``should_cancel`` turns true; ``JailUnavailable`` for infrastructure failures.
    """
    work_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    job.save(work_dir)
    (work_dir / "method.py").write_text(source)
    read_fd, write_fd = os.pipe()
    limit = memory_mb * 1024 * 1024

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    start = time.monotonic()
    stderr_path = work_dir / "stderr.txt"
    try:
        with open(stderr_path, "wb") as stderr_file:
            proc = subprocess.Popen(
                bwrap_argv(work_dir, hidden_paths(home), write_fd),
                pass_fds=(write_fd,),
                stdout=subprocess.DEVNULL,
                stderr=stderr_file,
                start_new_session=True,
                preexec_fn=limits,
            )
    except FileNotFoundError as exc:
        raise JailUnavailable("bubblewrap is not installed") from exc
    finally:
        os.close(write_fd)
    os.set_blocking(read_fd, False)
    audit = bytearray()
    outcome = None
    while proc.poll() is None:
        audit += _drain(read_fd)
        if should_cancel():
            outcome = "cancelled"
        elif time.monotonic() - start > timeout_s:
            outcome = "timeout"
        if outcome:
            _kill(proc)
            break
        time.sleep(0.05)
    audit += _drain(read_fd)
    os.close(read_fd)
    proc.wait()
    stderr = stderr_path.read_bytes()[-4000:].decode(errors="replace")
    seconds = time.monotonic() - start
    events = [json.loads(line) for line in audit.decode(errors="replace").splitlines() if line.startswith("{")]
    if outcome == "cancelled":
        raise Cancelled()
    if outcome == "timeout":
        raise JailMethodError(f"method exceeded its time limit of {timeout_s:.0f} s", events)
    if proc.returncode != 0:
        reason = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit status {proc.returncode}"
        if proc.returncode in (-signal.SIGKILL, 137) or "MemoryError" in stderr:
            reason = f"method was killed (memory limit {memory_mb} MiB?): {reason}"
        if "bwrap:" in stderr and proc.returncode == 1:
            raise JailUnavailable(stderr[-300:])
        raise JailMethodError(reason, events)
    try:
        predictions = np.load(work_dir / "predictions.npy", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise JailMethodError(f"method wrote no readable predictions: {exc}", events) from exc
    return JailRun(predictions=predictions, events=events, seconds=seconds)


def _drain(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _kill(proc: subprocess.Popen) -> None:
    """Kill the whole process group (bwrap and, with its PID namespace, everything inside)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
