"""The escape suite: what code inside a sandbox must not be able to do, checked from inside it.

``ESCAPE_CHECKS`` run in one sandbox started from ``escape_spec`` (small limits). Network checks need
targets that the caller starts (a server it owns, in a namespace or container it made); they take
``host:port`` strings as the sandbox must dial them. ``leftovers`` lists, from the host, anything of a
run label that is still alive: processes, mounts, cgroups, network namespaces, nftables tables,
containers, networks and uid leases.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sandbox import disk, uids
from sandbox.base import WORKDIR, Sandbox, SandboxSpec, SandboxUnavailableError
from sandbox.state import load_state

PROBE = """
import socket, sys
for target in sys.argv[1:]:
    host, port = target.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=3) as s:
            print(target, "open", s.recv(64).decode(errors="replace").strip())
    except OSError as exc:
        print(target, "closed", type(exc).__name__)
"""
HOST_PROCESSES = ("dockerd", "containerd", "postgres", "redis-server", "pytest", "sshd")
ESCAPE_CHECKS: dict[str, Callable[[Sandbox], None]] = {}


def escape_check(fn: Callable[[Sandbox], None]) -> Callable[[Sandbox], None]:
    ESCAPE_CHECKS[fn.__name__] = fn
    return fn


def escape_spec(label: str, **overrides: Any) -> SandboxSpec:
    """Tight limits so the bombs end quickly. Pass ``hidden`` (the label data folders): ``label_data_unreachable``
    checks that each of them is empty inside."""
    return SandboxSpec(**{"label": label, "memory_mb": 256, "pids": 96, "disk_mb": 64, "tmp_mb": 16, **overrides})


def probe(sb: Sandbox, *targets: str) -> dict[str, str]:
    """Connect from inside the sandbox to each ``host:port``: target → ``open <banner>`` or ``closed <why>``."""
    r = sb.exec(["python3", "-c", PROBE, *targets], timeout=60)
    assert r.exit_code == 0, r.stderr
    return {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in r.stdout.splitlines()}


@escape_check
def root_filesystem_read_only(sb: Sandbox) -> None:
    for path in ("/x", "/usr/x", "/etc/x", "/bin/x", "/var/x", "/opt/x"):
        assert not sb.exec(["sh", "-c", f"echo x > {path}"]).success, f"{path} is writable"
    for path in (f"{WORKDIR}/x", "/tmp/x"):
        assert sb.exec(["sh", "-c", f"echo x > {path} && rm {path}"]).success, f"{path} is not writable"


@escape_check
def no_capabilities_no_docker_socket(sb: Sandbox) -> None:
    status = dict(line.split(":\t", 1) for line in sb.read_file("/proc/self/status").splitlines() if ":\t" in line)
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(status[cap], 16) == 0, f"{cap} = {status[cap]}"
    assert status["NoNewPrivs"].strip() == "1"
    assert sb.exec(["sh", "-c", "id -u"]).stdout.strip() != "0"
    found = sb.exec(["sh", "-c", "ls -la /var/run/docker.sock /run/docker.sock /run/containerd 2>/dev/null"]).stdout
    assert found == "", f"engine sockets visible: {found}"


KERNEL_CALLS = """
import ctypes, errno, os
# name: (x86_64, aarch64) numbers, and the arguments tried
CALLS = {
    "keyctl": ((250, 219), (0, 0, 0, 0, 0)),
    "add_key": ((248, 217), (0, 0, 0, 0, 0)),
    "request_key": ((249, 218), (0, 0, 0, 0)),
    "bpf": ((321, 280), (0, 0, 0)),
    "perf_event_open": ((298, 241), (0, 0, -1, -1, 0)),
    "unshare(CLONE_NEWUSER)": ((272, 97), (0x10000000,)),
    "socket(AF_PACKET)": ((41, 198), (17, 3, 0)),
}
column = 0 if os.uname().machine == "x86_64" else 1
libc = ctypes.CDLL(None, use_errno=True)
for name, (numbers, args) in CALLS.items():
    result = libc.syscall(numbers[column], *(ctypes.c_long(a) for a in args))
    print(name, "allowed" if result >= 0 else errno.errorcode.get(ctypes.get_errno(), "?"))
"""


@escape_check
def kernel_reconfiguration_refused(sb: Sandbox) -> None:
    """Keyrings, BPF, perf events, new user namespaces and raw packet sockets are refused with EPERM (the
    seccomp filter on every provider: ours under bubblewrap, the engine's default profile under Docker)."""
    r = sb.exec(["python3", "-c", KERNEL_CALLS], timeout=60)
    assert r.exit_code == 0, r.stderr
    answers = dict(line.rsplit(" ", 1) for line in r.stdout.splitlines())
    assert answers and all(v == "EPERM" for v in answers.values()), answers


@escape_check
def host_processes_invisible(sb: Sandbox) -> None:
    script = "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done"
    cmdlines = sb.exec(["sh", "-c", script]).stdout
    seen = [name for name in HOST_PROCESSES if name in cmdlines]
    assert not seen, f"host processes visible: {seen}"
    assert len([c for c in cmdlines.splitlines() if c.strip()]) < 20, cmdlines


@escape_check
def label_data_unreachable(sb: Sandbox) -> None:
    assert sb.spec.hidden, "the sandbox was started without hidden paths (the caller's label data folders)"
    for path in sb.spec.hidden:
        r = sb.exec(["sh", "-c", f"ls -A '{path}' 2>/dev/null"])
        assert r.stdout.strip() == "", f"label data visible at {path}: {r.stdout[:200]}"
    names = "\\( -name 'rotten_tomatoes*' -o -name 'aggregatedCorpus*' \\)"
    prune = "\\( -path /proc -o -path /sys -o -path /dev \\) -prune"
    r = sb.exec(["sh", "-c", f"find / {prune} -o {names} -print 2>/dev/null"], timeout=120)
    assert r.stdout.strip() == "", f"label files found: {r.stdout[:500]}"
    env = sb.exec(["env"]).stdout
    for name in ("DATABASE_URL", "REDIS_URL", "AAR_ADMIN_TOKEN", "ANTHROPIC_API_KEY"):
        assert f"{name}=" not in env, f"{name} leaked into the sandbox"


@escape_check
def host_loopback_services_unreachable(sb: Sandbox) -> None:
    result = probe(sb, "127.0.0.1:5432", "127.0.0.1:6379", "127.0.0.1:5672")
    assert all(v.startswith("closed") for v in result.values()), result


@escape_check
def fork_bomb_stopped_by_pids_limit(sb: Sandbox) -> None:
    bomb = """
import os, time
n = 0
while True:
    try:
        pid = os.fork()
    except OSError:
        print(n, flush=True)
        time.sleep(300)
    if pid == 0:
        time.sleep(300)
        os._exit(0)
    n += 1
"""
    r = sb.exec(["python3", "-c", bomb], timeout=6)
    assert r.timed_out and r.stdout.strip().isdigit(), r
    assert int(r.stdout) < sb.spec.pids, f"{r.stdout.strip()} processes started under a limit of {sb.spec.pids}"
    after = sb.exec(["sh", "-c", "pgrep -c -f 'import o[s], time' || true"])
    assert after.success and after.stdout.strip() == "0", after


@escape_check
def memory_bomb_oom_killed(sb: Sandbox) -> None:
    bomb = "a = []\nwhile True:\n    a.append(b'\\x01' * (1 << 24))"
    r = sb.exec(["python3", "-c", bomb], timeout=60)
    assert not r.timed_out and r.exit_code in (-9, 137), r
    assert sb.exec(["true"]).success, "the sandbox died with the bomb"


@escape_check
def disk_fill_bounded(sb: Sandbox) -> None:
    for path, cap_mb in ((f"{WORKDIR}/fill", sb.spec.disk_mb), ("/tmp/fill", sb.spec.tmp_mb)):
        r = sb.exec(["sh", "-c", f"head -c 4G /dev/zero > {path}; echo rc=$?; stat -c %s {path}; rm -f {path}"])
        size = int(r.stdout.split()[-1])
        assert "rc=0" not in r.stdout and size <= cap_mb * 1024 * 1024, (path, r)


WRITABLE_FOLDERS = """
import os, sys
skip = ("proc", "sysfs", "cgroup", "cgroup2", "devpts", "mqueue")
found = set()
for line in open("/proc/self/mountinfo"):
    fields = line.split()
    fstype = fields[fields.index("-") + 1]
    if fstype in skip or "rw" not in fields[5].split(","):
        continue
    for top, dirs, _ in os.walk(fields[4]):
        if top.count("/") - fields[4].count("/") >= 2:
            dirs.clear()
        if os.access(top, os.W_OK):
            found.add(top)
print("\\n".join(sorted(found)))
"""


@escape_check
def every_writable_folder_capped(sb: Sandbox) -> None:
    """No folder the sandbox can write (the exec server's socket folder included) reaches the host disk
    uncapped: writing a little more than the largest cap fails everywhere."""
    folders = sb.exec(["python3", "-c", WRITABLE_FOLDERS], timeout=60).stdout.split()
    assert WORKDIR in folders and "/tmp" in folders, folders
    mib = max(sb.spec.disk_mb, sb.spec.tmp_mb, 64) + 16
    for folder in folders:
        path = f"{folder.rstrip('/')}/.aar-fill"
        r = sb.exec(["sh", "-c", f"head -c {mib}M /dev/zero > {path}; echo rc=$?; stat -c %s {path}; rm -f {path}"])
        assert "rc=0" not in r.stdout, f"{folder} took {mib} MiB: it is not capped"


@escape_check
def checkout_root_invisible(sb: Sandbox) -> None:
    """Only the package folders of the project are bound: its root (``.env``, ``pyproject.toml``) is not."""
    root = Path(__file__).resolve().parents[1]
    for name in (".env", "pyproject.toml", "README.md", ".git"):
        r = sb.exec(["sh", "-c", f"ls -d '{root / name}' 2>/dev/null"])
        assert r.stdout == "", f"{root / name} is visible inside the sandbox"


def control_socket_redirect(a: Sandbox, b: Sandbox, targets: list[str]) -> None:
    """Sandbox ``a`` replaces every socket it can see with a link to each of ``targets`` (``b``'s socket by
    its host path or through ``/proc/<pid>/root``, the engine's socket), putting its own back a second
    later: the host must never follow the link. ``a``'s command in between runs in ``a`` or fails; ``b``
    is untouched."""
    a.write_file("who", "a")
    b.write_file("who", "b")
    find = "find / \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -type s -print 2>/dev/null"
    sockets = sorted(set(a.exec(["sh", "-c", find], timeout=120).stdout.split()))
    swap = 'for s in "$@"; do ln -f "$s" "$s.keep" && ln -sfn "$0" "$s"; done; '
    restore = '(sleep 1; for s in "$@"; do mv -f "$s.keep" "$s"; done) >/dev/null 2>&1 &'
    for target in targets:
        a.exec(["sh", "-c", swap + restore, target, *sockets])
        try:
            seen = a.exec(["sh", "-c", "cat /workspace/who; echo pwned > /workspace/pwned-by-a"])
            assert seen.stdout.strip() == "a", f"a command of sandbox a ran elsewhere through {target}: {seen}"
        except SandboxUnavailableError:
            pass  # refused: the sandbox broke only its own exec server
        time.sleep(1.5)
    assert b.read_file("who") == "b"
    r = b.exec(["sh", "-c", "ls /workspace/pwned-by-a 2>/dev/null"])
    assert r.stdout == "", "sandbox a wrote into sandbox b's workspace"


def leftovers(root: Path, label: str) -> list[str]:
    """What of run ``label`` is still alive on the host (empty once stop or sweep has run)."""
    ids = [p.name for p in (root / label).glob("*") if p.is_dir()]
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if any(f"AAR_SANDBOX_ID={i}".encode() in environ + cmdline for i in ids):
            found.append(f"process {pid}: {cmdline[:80]!r}")
    mounts = Path("/proc/self/mountinfo").read_text()
    under = f"{root / label}/"
    found += [f"mount {line.split()[4]}" for line in mounts.splitlines() if line.split()[4].startswith(under)]
    for i in ids:
        device = disk.loop_device(root / label / i / disk.IMAGE)
        if device is not None:
            found.append(f"loop device {device[0]} of {i}")
            found += [f"mount {mp} of {i} in the namespace of pid {pid}" for pid, mp in disk.foreign_mounts(device)]
    found += [f"cgroup {c}" for i in ids for c in load_state(root / label / i).get("cgroup", []) if Path(c).exists()]
    found += [f"netns {i}" for i in ids if Path(f"/run/netns/aar-{i}").exists()]
    leased = [load_state(root / label / i).get("uid") for i in ids]
    found += [f"uid lease {uid}" for uid in leased if uid is not None and uids.held(uid)]
    tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
    found += [f"nft table aar_{i}" for i in ids if f"aar_{i}" in tables]
    found += _docker_leftovers(label)
    return found


def _docker_leftovers(label: str) -> list[str]:
    try:
        import docker

        client = docker.from_env(timeout=30)
        client.ping()
    except Exception:  # no SDK or no engine: nothing of Docker's can be left
        return []
    by_label: dict[str, str | list[str] | bool] = {"label": f"aar.label={label}"}
    return [f"container {c.name}" for c in client.containers.list(all=True, filters=by_label)] + [
        f"network {n.name}" for n in client.networks.list(filters=by_label)
    ]
