"""The warm jail's zygote: imports the method runtime once, then forks one fresh, isolated process per run.

``python -I -S -B zygote.py SOCKET_FD SECCOMP_FD SITE PRELOAD`` (``PRELOAD``: modules to import once,
comma-separated; ``sandbox.runtime.RuntimeSpec.preload``)

It runs inside the jail (``sandbox.jail``) with one privilege the jail's code never gets:
``CAP_SYS_ADMIN`` and ``CAP_SETPCAP`` in the jail's own user namespace, to build each run's
namespaces. It never runs untrusted code and never holds a job: each request on the socket carries
only descriptors (the run's control and stderr pipes, one memfd per input file) and their names. Per
request it forks a supervisor, which enters new mount, PID, network, IPC and UTS namespaces, forks an
init that execs ``sleep`` with an empty environment (PID 1), and forks the run (PID 2). The run mounts
its own ``/proc`` (process folders only: none of the host-wide counters such as ``loadavg``, ``stat`` or
``meminfo``), empty size-capped tmpfs on ``/tmp`` and ``/dev/shm``, a ``/job`` filled from the memfds
then made read-only, makes ``/dev`` read-only, closes every other descriptor, drops every capability
(the bounding and ambient sets too), sets ``no_new_privs``, installs the seccomp filter with a listener
that it hands to the supervisor, and only then calls ``jail_entry.main``. The supervisor answers every
refused call (``EPERM``) and counts it; when the run ends it kills its PID namespace and the zygote
reports the exit status and those counts. Runs may overlap: each request carries an id that its report
names. So a run inherits the zygote's imported modules and nothing
else: no file, memory, socket, IPC object or process of an earlier run survives, no network state
(loopback connections, ``TIME_WAIT`` entries, abstract sockets) is shared between runs, and no run can
see, signal or trace the zygote, the supervisor or a sibling.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import select
import signal
import socket
import sys
import traceback
from collections.abc import Callable
from typing import Any

CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWIPC, CLONE_NEWUTS = 0x00020000, 0x20000000, 0x08000000, 0x04000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
ST_TO_MS = {1: MS_RDONLY, 2: MS_NOSUID, 4: MS_NODEV, 8: MS_NOEXEC, 1024: 1024, 2048: 2048, 4096: 1 << 21}
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
PR_CAPBSET_DROP, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 47, 4
SYS_SECCOMP = {"x86_64": 317, "aarch64": 277}
SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER = 1, 8
NOTIF_RECV, NOTIF_SEND = 0xC0502100, 0xC0182101  # _IOWR('!', 0/1, struct seccomp_notif / _resp)
MAX_VIOLATION_KINDS = 64
CAP_VERSION_3, LAST_CAP = 0x20080522, 63
PROC_READ_ONLY = ("sys", "sysrq-trigger", "irq", "bus")
SETUP_FAILED = 125
SOCKET_NR = {"x86_64": 41, "aarch64": 198}[os.uname().machine]
libc = ctypes.CDLL(None, use_errno=True)


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


class SeccompNotif(ctypes.Structure):
    """``struct seccomp_notif``: the id, the caller and its ``struct seccomp_data``."""

    _fields_ = [
        ("id", ctypes.c_uint64),
        ("pid", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("nr", ctypes.c_int32),
        ("arch", ctypes.c_uint32),
        ("ip", ctypes.c_uint64),
        ("args", ctypes.c_uint64 * 6),
    ]


class SeccompNotifResp(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint64), ("val", ctypes.c_int64), ("error", ctypes.c_int32), ("flags", ctypes.c_uint32)]


def _check(result: int, what: str) -> None:
    if result != 0:
        raise OSError(ctypes.get_errno(), what)


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = [s.encode() if s is not None else None for s in (source, target, fstype, data)]
    _check(libc.mount(enc[0], enc[1], enc[2], flags, enc[3]), f"mount {target}")


def _read_only(path: str) -> None:
    """Remount the mount at ``path`` read-only, keeping its other (possibly locked) flags."""
    flags = os.statvfs(path).f_flag
    kept = sum(ms for st, ms in ST_TO_MS.items() if flags & st)
    _mount("none", path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | kept)


def _drop_privileges(seccomp: bytes, listener: bool = False) -> int | None:
    """Drop every capability, set ``no_new_privs`` and install ``seccomp``; with ``listener``, the filter's
    notification descriptor (for the supervisor) is returned."""
    for cap in range(LAST_CAP + 1):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # EINVAL past the kernel's last capability
    _check(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient capabilities")
    header = (ctypes.c_uint32 * 2)(CAP_VERSION_3, 0)
    _check(libc.capset(header, (ctypes.c_uint32 * 6)()), "capset")
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    program = SockFprog(len(seccomp) // 8, seccomp)
    if not listener:
        _check(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0), "seccomp")
        return None
    number = SYS_SECCOMP[os.uname().machine]
    fd: int = libc.syscall(number, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, ctypes.byref(program))
    if fd < 0:
        raise OSError(ctypes.get_errno(), "seccomp listener")
    return fd


def _serve_refusals(listener: int, run: int) -> dict[str, int]:
    """Answer each refused call of the run with ``EPERM`` until the run exits; count them by system call
    (``"<nr>"``, or ``"<nr>:<domain>"`` for sockets). Runs in the supervisor, outside the run's process."""
    counts: dict[str, int] = {}
    pidfd = os.pidfd_open(run)
    poller = select.poll()
    poller.register(listener, select.POLLIN)
    poller.register(pidfd, select.POLLIN)
    try:
        while True:
            ready = dict(poller.poll())
            if ready.get(listener, 0) & select.POLLIN:
                notif = SeccompNotif()
                if libc.ioctl(listener, NOTIF_RECV, ctypes.byref(notif)) == 0:
                    key = str(notif.nr) if notif.nr != SOCKET_NR else f"{notif.nr}:{notif.args[0] & 0xFFFFFFFF}"
                    if key in counts or len(counts) < MAX_VIOLATION_KINDS:
                        counts[key] = counts.get(key, 0) + 1
                    resp = SeccompNotifResp(notif.id, 0, -errno.EPERM, 0)
                    libc.ioctl(listener, NOTIF_SEND, ctypes.byref(resp))  # ENOENT: the caller died meanwhile
            elif ready.get(listener, 0):
                poller.unregister(listener)  # every process under the filter is gone
            if pidfd in ready:
                return counts
    finally:
        os.close(pidfd)


def _close_all_but(keep: set[int]) -> None:
    for fd in map(int, os.listdir("/proc/self/fd")):
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _init(seccomp: bytes, started: int) -> None:
    """PID 1 of a run: no descriptors, no capabilities, an empty environment; it only waits to be killed.
    ``started`` (not inherited by ``exec``) closes when it has become ``sleep``."""
    _close_all_but({0, 1, 2, started})
    _drop_privileges(seccomp)
    os.execve("/usr/bin/sleep", ["sleep", "infinity"], {})


def _run(request: dict[str, Any], fds: list[int], site: str, seccomp: bytes, handoff: socket.socket) -> int:
    """PID 2 of a run: its own filesystem view, then the jail entry, unprivileged; the seccomp listener
    goes to the supervisor over ``handoff`` before any untrusted code runs."""
    import jail_entry  # noqa: PLC0415 (imported by the zygote already; the name only)

    control, stderr, *inputs = fds
    tmp = f"size={int(request['tmp_bytes'])},mode=1777"
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "subset=pid")
    for name in PROC_READ_ONLY:
        path = f"/proc/{name}"
        if os.path.exists(path):
            _mount(path, path, None, MS_BIND | MS_REC)
            _read_only(path)
    for path in ("/tmp", "/dev/shm"):
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, tmp)
    _mount("tmpfs", "/job", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")
    for name, fd in zip(request["files"], inputs, strict=True):
        if "/" in name or name in ("", ".", ".."):
            raise ValueError(f"bad input name {name!r}")
        with open(f"/job/{name}", "xb") as out, os.fdopen(fd, "rb", closefd=True) as data:
            while chunk := data.read(1 << 20):
                out.write(chunk)
        os.chmod(f"/job/{name}", 0o644)
    _read_only("/job")
    _read_only("/dev")
    os.chdir("/tmp")
    null = os.open("/dev/null", os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.dup2(stderr, 2)
    _close_all_but({0, 1, 2, control, handoff.fileno()})
    listener = _drop_privileges(seccomp, listener=True)
    assert listener is not None
    socket.send_fds(handoff, [b"l"], [listener])
    os.close(listener)
    handoff.close()
    code: int = jail_entry.main([str(control), site, request["target"], json.dumps(request["args"])])
    return code


def _fork(child: Callable[[], int]) -> int:
    """Fork; the child runs ``child`` and exits with its code (``SETUP_FAILED``, traceback on stderr, when it
    raised), its output flushed. Returns the child's pid."""
    pid = os.fork()
    if pid == 0:
        code = SETUP_FAILED
        try:
            code = child()
        except BaseException:
            traceback.print_exc()
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except (OSError, ValueError):
                    pass
            os._exit(code)
    return pid


def _supervise(request: dict[str, Any], fds: list[int], site: str, seccomp: bytes, report: int) -> int:
    """New namespaces, an init and the run; the run's exit status (128 + signal when killed). The counts
    of refused calls are written to ``report`` as JSON."""
    _check(libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET), "unshare")
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    started_r, started_w = os.pipe()
    init = os.fork()
    if init == 0:
        try:
            _init(seccomp, started_w)
        finally:
            os._exit(SETUP_FAILED)
    os.close(started_w)
    os.read(started_r, 1)  # end of file once PID 1 is ``sleep``: every run sees the same PID 1
    os.close(started_r)

    def run_child() -> int:
        ours.close()
        os.close(report)
        return _run(request, fds, site, seccomp, theirs)

    run = _fork(run_child)
    for fd in fds:
        os.close(fd)
    theirs.close()
    counts: dict[str, int] = {}
    _, received, _, _ = socket.recv_fds(ours, 16, 1)  # nothing when the run ended before its filter
    for listener in received[:1]:
        counts = _serve_refusals(listener, run)
    for fd in received:
        os.close(fd)
    os.write(report, json.dumps(counts).encode()[:60000])
    _, status = os.waitpid(run, 0)
    os.kill(init, signal.SIGKILL)  # PID 1 gone: the kernel kills what is left of the run's namespace
    os.waitpid(init, 0)
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def main(argv: list[str]) -> int:
    sock_fd, seccomp_fd, site, preload = int(argv[0]), int(argv[1]), argv[2], argv[3]
    with os.fdopen(seccomp_fd, "rb") as f:
        seccomp = f.read()
    sys.path.insert(0, site)
    for name in filter(None, preload.split(",")):
        __import__(name)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import jail_entry  # noqa: F401, PLC0415

    del sys.path[0]
    sys.path.remove(site)  # jail_entry.main puts it back in each run
    sock = socket.socket(fileno=sock_fd)
    sock.send(b'{"ready": 1}')
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    running: dict[int, tuple[int, object, int]] = {}  # supervisor's pidfd → (its pid, request id, report pipe)
    while True:
        for fd, _ in poller.poll():
            if fd == sock.fileno():
                message, fds, _, _ = socket.recv_fds(sock, 65536, 256)
                if not message:
                    return 0
                request = json.loads(message)
                pid, report_r = _serve(request, fds, site, seccomp, sock)
                pidfd = os.pidfd_open(pid)
                running[pidfd] = (pid, request.get("id"), report_r)
                poller.register(pidfd, select.POLLIN)
                continue
            pid, run_id, report_r = running.pop(fd)
            poller.unregister(fd)
            os.close(fd)
            _, status = os.waitpid(pid, 0)
            with os.fdopen(report_r, "rb") as report:
                refused = report.read(65536)
            try:
                violations = json.loads(refused) if refused else {}
            except ValueError:
                violations = {}
            sock.send(
                json.dumps({"id": run_id, "status": os.waitstatus_to_exitcode(status), "refused": violations}).encode()
            )


def _serve(request: dict[str, Any], fds: list[int], site: str, seccomp: bytes, sock: socket.socket) -> tuple[int, int]:
    """Fork the supervisor of one run; its pid and the pipe its counts of refused calls come back on."""
    sys.stdout.flush()
    sys.stderr.flush()
    report_r, report_w = os.pipe()

    def supervisor() -> int:
        sock.close()
        os.close(report_r)
        return _supervise(request, fds, site, seccomp, report_w)

    pid = _fork(supervisor)
    for fd in fds:
        os.close(fd)
    os.close(report_w)
    return pid, report_r


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
