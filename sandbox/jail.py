"""The jail: run one call of untrusted Python code, isolated and bounded, and bring back its result.

Built on the bubblewrap provider's primitives (``sandbox.providers.bwrap``: the root → uid 10001 drop
after staging binds, ``sandbox.cgroups``, ``sandbox.runtime``, ``sandbox.seccomp``). Inside, the code
sees an allow-listed filesystem and nothing else of the host:

- ``/usr`` and the ``/lib*`` links read-only (without ``/usr/local`` and the system's Python packages),
  the loader's files from ``/etc`` and a synthetic ``passwd``, ``group`` and ``hosts``;
- the interpreter and standard library (at ``/opt/python`` unless it is the system's) and the method
  runtime's site-packages (``sandbox.runtime``: no dataset packages, no checkout, no other venvs);
- ``/job``: the call's input files, copied into a read-only tmpfs (no host path names them);
- ``/tmp`` (the working directory and ``HOME``) and ``/dev/shm``: size-capped tmpfs, the only
  writable places; ``RLIMIT_FSIZE`` caps each file.

Every namespace is new (user, pid, net, ipc, uts, cgroup, mount); nested user namespaces are disabled,
all capabilities dropped (the zygote keeps two inside the jail's user namespace to set up each run),
``no_new_privs`` set and a seccomp filter (``sandbox.seccomp``) denies
mounts, namespaces, ptrace and friends. The code runs as uid 10001; a root caller drops to host uid
10001 before it executes bwrap and puts the jail into a cgroup bounding total memory (swap included),
processes and CPU; without root, ``RLIMIT_AS`` and ``RLIMIT_NPROC`` (counted per user namespace) bound
it. bubblewrap itself runs with an empty environment, so the jail's PID 1 has none.

The result comes back through a pipe the caller holds (``sandbox.jail_entry`` writes it), and stderr
through another; both are read non-blocking and capped, so the trusted side never opens a path that
the code could have replaced by a symlink or FIFO, and nothing is left on the host afterwards. The
wall deadline and cancellation kill bwrap's process group and the cgroup: the code cannot block them.
If isolation cannot be set up, ``run`` raises ``JailUnavailable`` and runs nothing.

``Jail`` is the warm form (``run`` is a one-run ``Jail``): the process bwrap starts is a zygote
(``sandbox.jail_zygote``) that imports the runtime once and forks every run into its own mount, PID,
IPC and UTS namespaces with a fresh ``/tmp``, ``/dev/shm``, ``/job`` and ``/proc``, then drops every
capability and installs the seccomp filter before the code runs (docs/sandbox.md, "Warm start").
"""

from __future__ import annotations

import base64
import builtins
import itertools
import json
import logging
import os
import re
import resource
import secrets
import select
import selectors
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aar_core.settings import CoreSettings
from sandbox import cgroups, seccomp, uids
from sandbox.base import SANDBOX_UID, SandboxUnavailableError
from sandbox.bwrap_command import STAGE, base_argv, check_bwrap, enter
from sandbox.runtime import SITE, RuntimeSpec, runtime

JOB = "/job"
WORK = "/tmp"
ENTRY = "/opt/jail/jail_entry.py"
ZYGOTE = "/opt/jail/jail_zygote.py"
ENTRY_SOURCE = Path(__file__).with_name("jail_entry.py")
ZYGOTE_SOURCE = Path(__file__).with_name("jail_zygote.py")
ZYGOTE_CAPS = ("--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_SETPCAP")  # for its runs' setup; they drop all
ETC = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/nsswitch.conf")
ETC_SYNTHETIC = {
    "passwd": f"root:x:0:0:root:/:/usr/sbin/nologin\njail:x:{SANDBOX_UID}:{SANDBOX_UID}::{WORK}:/usr/sbin/nologin\n",
    "group": f"root:x:0:\njail:x:{SANDBOX_UID}:\n",
    "hosts": "127.0.0.1 localhost jail\n",
}
STDERR_KEEP = 16 * 1024
MAX_EVENTS = 100  # advisory events kept per run (the code's own interpreter writes them: it can forge them)
MAX_REFUSED_KINDS = 64
MiB = 1024 * 1024
log = logging.getLogger("aar.sandbox.jail")


class JailUnavailable(SandboxUnavailableError):
    """The jail cannot be set up here (or failed to start): an infrastructure failure, not the code's."""


@dataclass
class JailResult:
    """How one call ended. ``status``: ``ok`` (``value`` holds the bytes returned), ``error`` (``error``
    holds the code's own report, if it made one), ``timeout`` or ``cancelled``."""

    status: str
    value: bytes | None = None
    error: dict[str, Any] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    returncode: int | None = None
    memory_killed: bool = False
    seconds: float = 0.0
    stderr: str = ""  # the tail, for the operator's log: it may say anything
    refused: dict[str, int] = field(default_factory=dict)  # calls the seccomp filter refused, counted outside


def check(spec: RuntimeSpec) -> None:
    """Raise ``JailUnavailable`` saying what is missing when the jail for ``spec`` cannot work on this machine."""
    try:
        check_bwrap()
        runtime(spec)
        seccomp.program()
    except SandboxUnavailableError as exc:
        raise JailUnavailable(str(exc)) from exc


def run(
    files: dict[str, bytes],
    target: str,
    args: list[Any],
    *,
    runtime: RuntimeSpec,
    timeout_s: float,
    memory_mb: int,
    pids: int = 256,
    tmp_mb: int = 512,
    cpus: float | None = None,
    device: str = "cpu",
    max_output_bytes: int = 64 * MiB,
    should_cancel: Callable[[], bool] = lambda: False,
) -> JailResult:
    """Call ``target`` (``module:function``, importable from the runtime) with ``args`` (JSON) in a fresh
    jail whose ``/job`` holds ``files`` and whose runtime ``runtime`` describes; the function returns ``bytes``.
    Raises ``JailUnavailable``."""
    with Jail(runtime=runtime, memory_mb=memory_mb, pids=pids, tmp_mb=tmp_mb, cpus=cpus, device=device) as warm:
        return warm.run(
            files, target, args, timeout_s=timeout_s, max_output_bytes=max_output_bytes, should_cancel=should_cancel
        )


class Jail:
    """A warm jail: one zygote (``sandbox.jail_zygote``) with the runtime imported, serving runs one at a time.

    Every run gets a fresh process in new namespaces with its own ``/tmp``, ``/dev/shm``, ``/job`` and
    ``/proc``, and no capability; the limits (cgroup, rlimits) bound the zygote and its run together. A
    run that times out, is cancelled or kills the zygote takes the whole jail down; the next run starts
    a new one. ``runtime`` says what the caller adds to the method runtime (``sandbox.runtime.RuntimeSpec``).
    Use as a context manager (``close`` kills what is left)."""

    def __init__(
        self,
        *,
        runtime: RuntimeSpec,
        memory_mb: int,
        pids: int = 256,
        tmp_mb: int = 512,
        cpus: float | None = None,
        device: str = "cpu",
    ):
        self.runtime = runtime
        self.memory_mb, self.pids, self.tmp_mb, self.cpus, self.device = memory_mb, pids, tmp_mb, cpus, device
        self._proc: subprocess.Popen[bytes] | None = None
        self._group: cgroups.Cgroup | None = None
        self._sock: socket.socket | None = None
        self._err_r: int | None = None
        self._stderr = bytearray()
        self._lock = threading.RLock()  # runs may overlap: one thread reads the zygote's reports at a time
        self._reports: dict[int, dict[str, Any]] = {}
        self._run_ids = itertools.count(1)

    def __enter__(self) -> Jail:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Kill the zygote and everything it started; remove its cgroup."""
        with self._lock:
            if self._proc is not None:
                _kill(self._proc, self._group)
                self._proc = None
            if self._sock is not None:
                self._sock.close()
            if self._err_r is not None:
                os.close(self._err_r)
            if self._group is not None:
                self._group.remove()
            self._sock = self._err_r = self._group = None

    def run(
        self,
        files: dict[str, bytes],
        target: str,
        args: list[Any],
        *,
        timeout_s: float,
        max_output_bytes: int = 64 * MiB,
        should_cancel: Callable[[], bool] = lambda: False,
    ) -> JailResult:
        """Call ``target`` with ``args`` in a fresh process of this jail whose ``/job`` holds ``files``."""
        start = time.monotonic()
        deadline = start + timeout_s
        with self._lock:
            failed = self._start(deadline, should_cancel) if self._proc is None else None
        if failed is not None:
            failed.seconds = time.monotonic() - start
            return failed
        opened: list[int] = []
        try:
            return self._run(files, target, args, deadline, start, max_output_bytes, should_cancel, opened)
        finally:
            for fd in opened:
                try:
                    os.close(fd)
                except OSError:
                    pass

    def start(self, timeout_s: float) -> bool:
        """Start the zygote before the first run needs it; ``False`` when it ran out of time or memory
        (the first run starts it again). Raises ``JailUnavailable``."""
        with self._lock:
            if self._proc is not None:
                return True
            return self._start(time.monotonic() + timeout_s, lambda: False) is None

    def _start(self, deadline: float, should_cancel: Callable[[], bool]) -> JailResult | None:
        """Start the zygote; ``None`` once it is ready, a result when the start ran out of time or memory."""
        check(self.runtime)
        root = os.geteuid() == 0
        if root:
            group = cgroups.create(
                f"jail-{secrets.token_hex(8)}",
                memory_bytes=self.memory_mb * MiB,
                cpus=self.cpus or float(os.cpu_count() or 1),
                pids=self.pids,
            )
            if group is None or not (group.enforced.get("memory_limit") and group.enforced.get("pids_limit")):
                if group is not None:
                    group.remove()
                raise JailUnavailable("cgroups with memory and pids controllers are needed to bound the jail")
            self._group = group
        opened: list[int] = []
        try:
            self._launch(opened)
        finally:
            for fd in opened:
                os.close(fd)
        sock, proc = self._sock, self._proc
        assert sock is not None and proc is not None  # set by _launch
        while True:
            try:
                message = sock.recv(4096)
            except BlockingIOError:
                message = None
            if message:
                return None
            self._drain()
            dead = message == b"" or proc.poll() is not None
            status = "cancelled" if should_cancel() else "timeout" if time.monotonic() > deadline else None
            if dead or status:
                oom = self._group.oom_kills() if self._group is not None else 0
                self.close()
                if status:
                    return JailResult(status=status)
                if oom:
                    return JailResult(status="error", memory_killed=True, returncode=-9)
                tail = self._stderr.decode(errors="replace").strip()[-300:]
                log.warning("jail failed to start: %s", self._stderr[-2000:].decode(errors="replace"))
                raise JailUnavailable(f"the jail failed to start: {scrub(tail)}")
            select.select([sock], [], [], 0.05)

    def _launch(self, opened: list[int]) -> None:
        rt = runtime(self.runtime)
        root = os.geteuid() == 0
        sources = [
            ENTRY_SOURCE,
            ZYGOTE_SOURCE,
            *(Path(p) for p in ETC if os.path.exists(p)),
            *(src for src, _ in rt.binds),
        ]
        staged = [f"{STAGE}/{i}" for i in range(len(sources))] if root else [str(p) for p in sources]
        entry, zygote, *rest = staged
        etc, binds = rest[: len(rest) - len(rt.binds)], rest[len(rest) - len(rt.binds) :]
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        opened.append(theirs.detach())
        ours.setblocking(False)
        self._sock = ours
        err_r, err_w = os.pipe()
        self._err_r = err_r
        os.set_blocking(err_r, False)
        opened.append(err_w)
        sec_fd = seccomp.filter_fd(notify=True)
        opened.append(sec_fd)
        inputs = {f"/etc/{n}": _memfd(c.encode(), opened) for n, c in ETC_SYNTHETIC.items()}
        tmp = self.tmp_mb * MiB

        argv = base_argv("jail", network=False, system=("/usr",), tmp_bytes=tmp)
        argv += ["--die-with-parent", *ZYGOTE_CAPS]
        for path in rt.covered:
            if path.startswith("/usr/"):
                argv += ["--tmpfs", path]
        argv += [
            "--perms",
            "1777",
            "--size",
            str(tmp),
            "--tmpfs",
            WORK,
        ]
        if self.device.startswith("cuda"):
            for node in sorted(Path("/dev").glob("nvidia*")):
                argv += ["--dev-bind", str(node), str(node)]
        for src, (_, dest) in zip(binds, rt.binds, strict=True):
            argv += ["--ro-bind", src, dest]
        for path in rt.covered:
            if not path.startswith("/usr/"):
                argv += ["--tmpfs", path]
        for src, dest in zip(etc, (p for p in ETC if os.path.exists(p)), strict=True):
            argv += ["--ro-bind", src, dest]
        argv += ["--ro-bind", entry, ENTRY, "--ro-bind", zygote, ZYGOTE, "--tmpfs", JOB]
        for dest, fd in inputs.items():
            argv += ["--file", str(fd), dest]
        argv += ["--remount-ro", JOB, "--remount-ro", "/", "--chdir", WORK, "--clearenv"]
        threads = str(CoreSettings().threads)  # AAR_THREADS: the engine reads it back as OMP_NUM_THREADS
        env = {
            "PATH": f"{Path(rt.executable).parent}:/usr/bin:/bin",
            "HOME": WORK,
            "TMPDIR": WORK,
            "LANG": "C.UTF-8",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "OMP_NUM_THREADS": threads,
            **dict(rt.env),
        }
        for key, value in env.items():
            argv += ["--setenv", key, value]
        argv += ["--", rt.executable, "-I", "-S", "-B", ZYGOTE, str(opened[0]), str(sec_fd), SITE]
        argv.append(",".join(self.runtime.preload))

        group = self._group
        nproc = None if root else self.pids + _tasks_of(os.getuid())
        setup = None
        if root:
            assert group is not None  # made by _start
            uid = uids.lease_for(self, "jail").uid
            setup = enter([p / "cgroup.procs" for p in group.paths], None, sources, uid=uid)
        memory = self.memory_mb * MiB

        def preexec() -> None:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            resource.setrlimit(resource.RLIMIT_FSIZE, (tmp, tmp))
            if nproc is not None:
                resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
            if setup is not None:
                setup()

        try:
            self._proc = subprocess.Popen(
                argv,
                env={},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err_w,
                pass_fds=(opened[0], sec_fd, *inputs.values()),
                start_new_session=True,
                preexec_fn=preexec,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            self.close()
            raise JailUnavailable(f"the jail could not start: {exc}") from exc

    def _read_reports(self) -> bool:
        """Move every report the zygote has sent into ``_reports`` (by run id); whether the zygote is gone."""
        while self._sock is not None:
            try:
                message = self._sock.recv(4096)
            except BlockingIOError:
                break
            except OSError:
                return True
            if not message:
                return True
            report = json.loads(message)
            if isinstance(report, dict) and isinstance(report.get("id"), int):
                self._reports[report["id"]] = report
        self._drain()
        return self._sock is None or self._proc is None or self._proc.poll() is not None

    def _drain(self) -> None:
        """Keep the tail of the zygote's own stderr (imports may warn) without ever blocking on it."""
        if self._err_r is None:  # closed
            return
        try:
            while chunk := os.read(self._err_r, 65536):
                self._stderr += chunk
                del self._stderr[:-STDERR_KEEP]
        except BlockingIOError:
            pass

    def _run(
        self,
        files: dict[str, bytes],
        target: str,
        args: list[Any],
        deadline: float,
        start: float,
        max_output_bytes: int,
        should_cancel: Callable[[], bool],
        opened: list[int],
    ) -> JailResult:
        ctl_r, ctl_w = os.pipe()
        err_r, err_w = os.pipe()
        opened += [ctl_r, ctl_w, err_r, err_w]
        inputs = [_memfd(data, opened) for data in files.values()]
        run_id = next(self._run_ids)
        request = {"id": run_id, "files": list(files), "target": target, "args": args, "tmp_bytes": self.tmp_mb * MiB}
        oom_before = self._group.oom_kills() if self._group is not None else 0
        try:
            with self._lock:
                if self._sock is None:
                    raise OSError("closed")
                socket.send_fds(self._sock, [json.dumps(request).encode()], [ctl_w, err_w, *inputs])
        except OSError as exc:
            self.close()
            raise JailUnavailable(f"the jail's zygote is gone: {exc}") from exc
        for fd in (ctl_w, err_w, *inputs):
            os.close(fd)
            opened.remove(fd)
        child = _Child(self, run_id)
        control, stderr, status = _watch(
            child, self.close, ctl_r, err_r, deadline, should_cancel, max_output_bytes + MiB
        )
        result = _parse(control, status)
        result.returncode, result.seconds, result.refused = child.returncode, time.monotonic() - start, child.refused
        result.stderr = stderr.decode(errors="replace")
        oom = (self._group.oom_kills() if self._group is not None else 0) - oom_before
        killed = child.returncode in (-9, 137) and not control.get("final")
        result.memory_killed = status == "error" and (
            oom > 0 or killed and child.zygote_died or (result.error or {}).get("type") == "MemoryError"
        )
        if status == "error" and not control.get("ready") and not result.memory_killed:
            self._drain()
            log.warning(
                "jail run failed to start (status %s): %s %s",
                child.returncode,
                result.stderr[-2000:],
                self._stderr[-2000:].decode(errors="replace"),
            )
            raise JailUnavailable(
                f"the jail failed to start (exit status {child.returncode}): {scrub(result.stderr.strip()[-300:])}"
            )
        return result


class _Child:
    """One run as ``_watch`` sees it: done when the zygote reports the status of ``run_id`` (or dies)."""

    def __init__(self, jail: Jail, run_id: int):
        self.jail, self.run_id, self.zygote_died = jail, run_id, False
        self.returncode: int | None = None
        self.refused: dict[str, int] = {}

    def poll(self) -> int | None:
        if self.returncode is not None:
            return self.returncode
        jail = self.jail
        with jail._lock:
            gone = jail._read_reports()
            report = jail._reports.pop(self.run_id, None)
        if report is not None:
            code = int(report.get("status", -9))
            self.returncode = 128 - code if code > 128 else code
            self.refused = _refused(report.get("refused"))
        elif gone:
            self.returncode, self.zygote_died = -signal.SIGKILL, True
            jail.close()
        return self.returncode


def _refused(counts: object) -> dict[str, int]:
    """The supervisor's counts of refused calls (``{"<nr>[:<domain>]": n}``), by the calls' names."""
    named: dict[str, int] = {}
    if isinstance(counts, dict):
        for key, count in list(counts.items())[:MAX_REFUSED_KINDS]:
            if isinstance(key, str) and isinstance(count, int) and count > 0:
                name = seccomp.describe(key)
                named[name] = named.get(name, 0) + count
    return named


def _memfd(data: bytes, opened: list[int]) -> int:
    fd = os.memfd_create("jail-input", 0)
    opened.append(fd)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _tasks_of(uid: int) -> int:
    """How many tasks (threads included) ``uid`` runs now: they count against ``RLIMIT_NPROC`` too."""
    count = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields.get("Uid", "-1 ").split()[0]) == uid:
            count += int(fields.get("Threads", "1"))
    return count


def _watch(
    proc: _Child,
    kill: Callable[[], None],
    ctl_r: int,
    err_r: int,
    deadline: float,
    should_cancel: Callable[[], bool],
    cap: int,
) -> tuple[dict[str, Any], bytes, str]:
    """Read both pipes until the jail ends; kill it at the deadline or on cancel. Never blocks on the code."""
    buffers = {ctl_r: bytearray(), err_r: bytearray()}
    overflow = False
    status = None
    with selectors.DefaultSelector() as sel:
        for fd in buffers:
            os.set_blocking(fd, False)
            sel.register(fd, selectors.EVENT_READ)
        exited_at = None
        while True:
            if sel.get_map():
                ready = sel.select(0.05)
            else:
                time.sleep(0.05)
                ready = []
            for key, _ in ready:
                try:
                    chunk = os.read(key.fd, 65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    sel.unregister(key.fd)
                    continue
                buf = buffers[key.fd]
                if key.fd == err_r:
                    buf += chunk
                    del buf[:-STDERR_KEEP]
                elif len(buf) + len(chunk) <= cap:
                    buf += chunk
                else:
                    overflow = True
            if status is None and should_cancel():
                status = "cancelled"
            elif status is None and time.monotonic() > deadline:
                status = "timeout"
            if status is not None:
                kill()
            if proc.poll() is not None:
                exited_at = exited_at or time.monotonic()
                if not sel.get_map() or time.monotonic() - exited_at > 1.0:
                    break  # a pipe still open after its writers died cannot hold anything we need
    if status is not None or proc.poll() is None:
        kill()
    control = _messages(bytes(buffers[ctl_r]))
    if overflow:
        control["overflow"] = True
    return control, bytes(buffers[err_r]), status or ("ok" if proc.returncode == 0 else "error")


def _kill(proc: subprocess.Popen[bytes], group: cgroups.Cgroup | None) -> None:
    """SIGKILL bwrap's session (its PID namespace dies with it) and everything in the cgroup."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if group is not None:
        group.kill()
    proc.wait()


def _messages(data: bytes) -> dict[str, Any]:
    found: dict[str, Any] = {"events": []}
    for line in data.splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if not isinstance(message, dict):
            continue
        if "event" in message and len(found["events"]) < MAX_EVENTS:
            found["events"].append({str(k)[:40]: str(v)[:300] for k, v in list(message.items())[:8]})
        elif message.get("ready") == 1:
            found["ready"] = True
        elif "result" in message or "error" in message:
            found["final"] = message
    return found


def _parse(control: dict[str, Any], status: str) -> JailResult:
    result = JailResult(status=status, events=control["events"])
    final = control.get("final", {})
    if status == "ok" and isinstance(final.get("result"), str) and not control.get("overflow"):
        try:
            result.value = base64.b64decode(final["result"], validate=True)
        except ValueError:
            result.status = "error"
    elif status == "ok":
        result.status = "error"
    if result.status == "error" and isinstance(final.get("error"), dict):
        result.error = final["error"]
    if control.get("overflow"):
        result.error = {"type": "OutputLimit", "message": "the result exceeded the output limit", "frames": []}
    return result


PATH = re.compile(r"(?<![\w.~-])(/[^\s'\"():,;\]\[<>]*)")
ALLOWED_PREFIXES = (f"{JOB}/",)  # not /tmp: a host checkout or home may live under /tmp too
NAME = re.compile(r"^[A-Za-z_<][A-Za-z0-9_.<>]{0,60}$")
ERROR_CHARS = 300  # everything an untrusted caller sees of one failure
# The exception types an error may name: Python's own and the engine's; any other shows as ``Exception``.
KNOWN_ERRORS = frozenset(
    name for name, obj in vars(builtins).items() if isinstance(obj, type) and issubclass(obj, BaseException)
) | {"MethodError", "OutputLimit"}


def scrub(text: str) -> str:
    """``text`` with every absolute path outside the jail's ``/job`` replaced by ``<path>``."""
    return PATH.sub(lambda m: m.group(1) if m.group(1).startswith(ALLOWED_PREFIXES) else "<path>", text)


def describe_error(error: dict[str, Any] | None, fallback: str) -> str:
    """What an untrusted caller may see of its code's failure, at most ``ERROR_CHARS`` characters: the
    exception type (from ``KNOWN_ERRORS``, else ``Exception``), one line of its message with paths
    scrubbed, and where in the caller's own files under ``/job`` it was raised.

    The code writes this record itself (it runs in the interpreter that reports it), so nothing in it is
    trusted: only its length and the names it may use are decided here."""
    if not isinstance(error, dict):
        return fallback[:ERROR_CHARS]
    kind = str(error.get("type", ""))[:60]
    kind = kind if kind in KNOWN_ERRORS else "Exception"
    frames = error.get("frames")
    where: list[str] = []
    for frame in frames[-3:] if isinstance(frames, list) else []:
        if isinstance(frame, list) and len(frame) >= 3 and str(frame[1]).isdigit():
            name, line, func = (str(x)[:60] for x in frame[:3])
            name = name if NAME.match(name) else "<file>"
            func = func if NAME.match(func) else "<function>"
            where.append(f"{name}, line {line}, in {func}" if not where else f"line {line}, in {func}")
    trail = f" ({'; '.join(where)})" if where else ""
    message = " ".join(scrub(str(error.get("message", ""))[: 4 * ERROR_CHARS]).split())
    head = message if kind in ("MethodError", "OutputLimit") else f"method raised {kind}: {message}"
    room = ERROR_CHARS - len(trail)
    if len(head) > room:
        head = head[: room - 1] + "…"
    return head + trail
