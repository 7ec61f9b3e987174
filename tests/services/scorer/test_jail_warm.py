"""The warm jail: consecutive runs served by one zygote share nothing but the imported runtime; consecutive
submissions get jails of their own, started ahead."""

import os
import time

import numpy as np
import pytest

from sandbox.jail import Jail
from services.scorer.jail import ENGINE_RUNTIME, check_prerequisites, run_in_jail
from services.scorer.warm import WarmJails
from tests.services.scorer.test_jail_attacks import small_job

LEAVE_TRACES = """
import ctypes, os, subprocess, sys, signal
import numpy, w2s
def run(ctx):
    libc = ctypes.CDLL(None, use_errno=True)
    written = []
    for folder in ("/tmp", "/dev/shm", "/dev", "/job", "/", "/proc", os.getcwd(), os.environ.get("HOME", "/")):
        try:
            with open(os.path.join(folder, "marker-from-run-1"), "w") as f:
                f.write("run 1")
            written.append(folder)
        except OSError:
            pass
    assert set(written) <= {"/tmp", "/dev/shm"}, written
    os.environ["MARKER_FROM_RUN_1"] = "1"
    numpy.MARKER_FROM_RUN_1 = w2s.MARKER_FROM_RUN_1 = sys.MARKER_FROM_RUN_1 = 1
    assert libc.shmget(0x4242, 4096, 0o1666) >= 0  # a SysV segment outlives its creator
    subprocess.Popen(["sleep", "300"])  # a process left behind
    pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    parents = {p: int(open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1]) for p in pids}
    others = [p for p in pids if p not in (1, os.getpid()) and parents[p] != os.getpid()]
    assert others == [], [(p, parents[p], open(f"/proc/{p}/cmdline", "rb").read()) for p in others]
    for pid in range(2, 5000):  # the zygote and the supervisor are not in this PID namespace
        if pid != os.getpid():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            assert libc.ptrace(16, pid, 0, 0) == -1  # PTRACE_ATTACH
    os.kill(-1, signal.SIGKILL)
    return [0.25] * len(ctx.targets)
"""

FIND_TRACES = """
import ctypes, os, sys
import numpy, w2s
def run(ctx):
    libc = ctypes.CDLL(None, use_errno=True)
    found = []
    for folder in ("/tmp", "/dev/shm", "/dev", "/job", "/", os.getcwd()):
        if os.path.exists(os.path.join(folder, "marker-from-run-1")):
            found.append(folder)
    if "MARKER_FROM_RUN_1" in os.environ:
        found.append("env")
    found += [m.__name__ for m in (numpy, w2s, sys) if hasattr(m, "MARKER_FROM_RUN_1")]
    if libc.shmget(0x4242, 0, 0) >= 0:
        found.append("shm")
    found += [p for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, os.getpid())]
    assert found == [], found
    return [0.75] * len(ctx.targets)
"""


@pytest.fixture(scope="module")
def job():
    check_prerequisites()
    return small_job()


def test_consecutive_runs_of_one_warm_jail_are_isolated(job):
    """Run 1 leaves files, environment, module state, a SysV segment and a process, and tries to kill or
    trace every pid it can name; run 2, served by the same zygote, sees none of it."""
    with Jail(runtime=ENGINE_RUNTIME, memory_mb=4096) as warm:
        first = run_in_jail(job, LEAVE_TRACES, timeout_s=120, memory_mb=4096, warm=warm)
        zygote = warm._proc.pid
        start = time.monotonic()
        second = run_in_jail(job, FIND_TRACES, timeout_s=120, memory_mb=4096, warm=warm)
        warm_seconds = time.monotonic() - start
        assert warm._proc is not None and warm._proc.pid == zygote, "run 2 was not served by the same zygote"
        assert warm._proc.poll() is None, "run 1 killed the zygote"
    assert np.allclose(first.predictions, 0.25) and np.allclose(second.predictions, 0.75)
    assert warm_seconds < 60


def test_a_run_that_times_out_takes_the_jail_down_and_the_next_one_starts_fresh(job):
    with Jail(runtime=ENGINE_RUNTIME, memory_mb=4096) as warm:
        with pytest.raises(Exception, match="time limit"):
            run_in_jail(
                job, "import time\ndef run(ctx):\n    time.sleep(300)\n", timeout_s=3, memory_mb=4096, warm=warm
            )
        assert warm._proc is None
        again = run_in_jail(job, FIND_TRACES, timeout_s=120, memory_mb=4096, warm=warm)
    assert np.allclose(again.predictions, 0.75)


def test_each_submission_gets_a_jail_of_its_own_started_ahead(job):
    """The worker's warm pool (``services.scorer.warm``): a submission takes a jail whose zygote is already
    up, the next one starts in the background, and nothing of the first submission reaches the second."""
    pool = WarmJails(lambda: Jail(runtime=ENGINE_RUNTIME, memory_mb=4096), start_timeout_s=300)
    pool.prepare()
    try:
        with pool.take() as first:
            assert first._proc is not None and first._proc.poll() is None  # started before it was taken
            run_in_jail(job, LEAVE_TRACES, timeout_s=120, memory_mb=4096, warm=first)
            zygote = first._proc.pid
        with pool.take() as second:
            assert second is not first and second._proc is not None and second._proc.pid != zygote
            found = run_in_jail(job, FIND_TRACES, timeout_s=120, memory_mb=4096, warm=second)
        assert np.allclose(found.predictions, 0.75)
    finally:
        pool.close()


def test_a_jail_keeps_no_copy_of_a_sandbox_workspace(tmp_path):
    """A jail started while a sandbox's workspace is mounted holds no copy of that mount: a warm jail may
    live long, and the copy would keep the sandbox's loop device (and its disk) busy until it ends."""
    from sandbox import disk

    folder = tmp_path / "sandbox"
    folder.mkdir()
    assert disk.make_workspace(folder, 64, 10001)
    try:
        device = disk.loop_device(folder / disk.IMAGE)
        assert device is not None
        with Jail(runtime=ENGINE_RUNTIME, memory_mb=4096) as jail:
            assert jail.start(300)
            holders = {os.stat(f"/proc/{pid}/ns/mnt").st_ino for pid, _ in disk.foreign_mounts(device)}
            jail_namespaces = {os.stat(f"/proc/{pid}/ns/mnt").st_ino for pid in _tree(jail._proc.pid)}
            assert not holders & jail_namespaces
    finally:
        disk.release_workspace(folder)


def _tree(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    children = {}
    for p in filter(str.isdigit, os.listdir("/proc")):
        try:
            parent = int(open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        children.setdefault(parent, []).append(int(p))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo += children.get(found[-1], [])
    return found
