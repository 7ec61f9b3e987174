"""The bubblewrap provider: a persistent sandbox made of Linux namespaces, no daemon needed.

Layout inside: read-only ``/usr``, ``/etc`` and the Python installation and the package folders of the project
that run the engine (never a checkout's root; ``AAR_HOME``, the spec's ``hidden`` paths such as label data
folders, and service secrets covered by empty read-only tmpfs), a fresh ``/proc``, a read-only ``/dev`` with a
size-capped ``/dev/shm``, a size-capped tmpfs ``/tmp``, the writable ``/workspace``, a read-only root, and a
synthetic ``/etc/passwd``. The exec server's socket is bound by the host in a folder the sandbox never sees
and passed in as a descriptor. Every namespace is new (user, pid, ipc, uts, cgroup, mount, and net unless an
allow-list joins the ``aar-<id>`` namespace); nested user namespaces are disabled. Commands run as uid 10001
with no capabilities and ``no_new_privs``, through the exec server, which is PID 1 of the sandbox (so bwrap's
own command line, which names host paths, is not visible).

As root, the provider also enforces cgroup limits (v1 or v2), a disk quota (``sandbox.disk``), the
network allow-list (``sandbox.network``) and a host uid of the sandbox's own (``sandbox.uids``; uid
10001 inside) for every sandboxed process: the bwrap process starts as root in a private mount
namespace, binds what it needs into a staging tmpfs (some sources sit under ``/root``) and detaches the
other sandboxes' mounts from its copy (so it does not keep their loop devices alive), then drops to that
uid before it execs bwrap. Without root, the sandbox keeps its namespaces and read-only layout and
``capabilities()`` says what is missing.

bwrap's output (and the exec server's) reaches ``sandbox.log`` through a pipe that a host thread drains,
keeping the first ``LOG_MAX_BYTES``: nothing in the sandbox holds a descriptor of a host file.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from aar_core.settings import CoreSettings
from sandbox import cgroups, disk, network, seccomp, uids
from sandbox.base import (
    SANDBOX_UID,
    SANDBOX_USER,
    WORKDIR,
    Capabilities,
    SandboxProvider,
    SandboxSpec,
    SandboxUnavailableError,
    new_id,
)
from sandbox.bwrap_command import STAGE, base_argv, check_bwrap, enter
from sandbox.client import ExecdSandbox, listen_unix
from sandbox.execd import kill_tree
from sandbox.hidden import hidden_paths
from sandbox.state import live, load_state, save_state

EXECD = Path(__file__).resolve().parents[1] / "execd.py"
PROJECT = Path(__file__).resolve().parents[2]  # the checkout or site-packages holding this project's packages
LOG_MAX_BYTES = 1 << 20  # of bwrap's and the exec server's output kept in sandbox.log; the rest is dropped
SYSTEM_DIRS = ("/usr", "/etc", "/opt")


def python_roots() -> list[Path]:
    """The folders a Python process of the engine needs: interpreter, virtualenv, sys.path entries, and of a
    source checkout (the project's own, or a ``sys.path`` entry with ``pyproject.toml`` or ``.git``) only its
    package folders, never its root (where ``.env`` and other local files live)."""
    found = {Path(sys.prefix), Path(sys.base_prefix), Path(os.path.realpath(sys.executable)).parents[1]}
    found |= {PROJECT, *(Path(p) for p in sys.path if p and os.path.isdir(p))}
    expanded: set[Path] = set()
    for path in {p.resolve() for p in found}:
        expanded |= set(_packages(path)) if _is_checkout(path) else {path}
    roots: list[Path] = []
    for path in sorted(expanded):
        if not any(path == r or r in path.parents for r in roots) and not str(path).startswith(SYSTEM_DIRS):
            roots.append(path)
    return roots


def _engine_path() -> dict[str, str]:
    """``PYTHONPATH`` naming the engine's checkout (its package folders are bound), so commands import the
    engine this process runs, not another checkout an editable install points at."""
    return {"PYTHONPATH": str(PROJECT)} if _is_checkout(PROJECT) else {}


def _is_checkout(path: Path) -> bool:
    return (path / "pyproject.toml").exists() or (path / "setup.py").exists() or (path / ".git").exists()


def _packages(checkout: Path) -> list[Path]:
    """A checkout's top-level package folders (those with ``__init__.py``)."""
    return [p for p in checkout.iterdir() if p.is_dir() and (p / "__init__.py").is_file()]


def _etc_files(folder: Path, hosts: dict[str, str]) -> None:
    etc = folder / "etc"
    etc.mkdir(exist_ok=True)
    uids.account_files(etc, SANDBOX_UID)
    (etc / "hosts").write_text("127.0.0.1 localhost sandbox\n" + "".join(f"{ip} {n}\n" for n, ip in hosts.items()))


def drain_log(fd: int, path: Path, limit: int = LOG_MAX_BYTES) -> threading.Thread:
    """A thread copying the pipe ``fd`` to ``path`` until every writer closes it, keeping the first ``limit``
    bytes and dropping the rest (so a writer never blocks and the file never grows past the cap)."""

    def run() -> None:
        kept = 0
        with open(fd, "rb", buffering=0) as pipe, open(path, "ab") as log:
            while chunk := pipe.read(65536):
                if kept < limit:
                    log.write(chunk[: limit - kept])
                    log.flush()
                    kept += len(chunk)
                    if kept >= limit:
                        log.write(f"\n[log cut at {limit} bytes]\n".encode())

    thread = threading.Thread(target=run, name=f"log {path.parent.name}", daemon=True)
    thread.start()
    return thread


class BwrapSandbox(ExecdSandbox):
    """A running bubblewrap sandbox."""

    def __init__(
        self,
        provider: BwrapProvider,
        folder: Path,
        spec: SandboxSpec,
        proc: subprocess.Popen[bytes],
        endpoints: dict[str, str],
        log: threading.Thread,
    ):
        super().__init__(provider, folder, spec, endpoints)
        self.proc, self.log = proc, log

    def stop(self) -> None:
        super().stop()
        self.proc.wait()
        self.log.join(5)

    def diagnose(self) -> str:
        state = load_state(self.folder)
        group = _cgroup(state)
        oom = f" after {group.oom_kills()} out-of-memory kill(s)" if group and group.oom_kills() else ""
        if self.proc.poll() is not None:
            return f"the sandbox exited (status {self.proc.returncode}){oom}; log: {self.folder / 'sandbox.log'}"
        return f"the exec server stopped answering{oom}" if oom else ""


def _cgroup(state: dict[str, Any]) -> cgroups.Cgroup | None:
    if not state.get("cgroup"):
        return None
    return cgroups.Cgroup(state["cgroup_version"], [Path(p) for p in state["cgroup"]])


class BwrapProvider(SandboxProvider):
    """Sandboxes from bubblewrap and namespaces; state under ``root/<label>/<id>/`` (see module docs)."""

    name = "bwrap"

    def check(self) -> None:
        check_bwrap()
        seccomp.program()  # libseccomp is there

    def capabilities(self) -> Capabilities:
        root = os.geteuid() == 0
        version = cgroups.version()
        net_tools = all(shutil.which(t) for t in ("ip", "nft"))
        enforced = {
            "non_root_user": True,
            "no_capabilities": True,
            "no_new_privileges": True,
            "read_only_root": True,
            "pid_namespace": True,
            "seccomp_filter": True,
            "network_none": True,
            "network_allow_list": root and net_tools,
            "memory_limit": root and version is not None,
            "memory_swap_equal": root and version is not None,
            "cpu_limit": root and version is not None,
            "pids_limit": root and version is not None,
            "disk_quota": disk.quota_available(),
            "tmp_quota": True,
            "label_data_hidden": True,
            "host_uid_unprivileged": root,
            "host_uid_per_sandbox": root,
            "gpu": False,
        }
        notes = {"gpu": "bubblewrap sandboxes get a minimal /dev; use the Docker provider for GPUs"}
        if not root:
            notes["memory_limit"] = notes["network_allow_list"] = notes["disk_quota"] = "needs root"
            notes["host_uid_unprivileged"] = notes["host_uid_per_sandbox"] = (
                "without root, sandboxed processes keep the caller's host uid"
            )
        elif version is None:
            notes["memory_limit"] = "no cgroup hierarchy mounted"
        if (
            root
            and version == 1
            and cgroups.swap_total()
            and not Path("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes").exists()
        ):  # noqa: E501
            enforced["memory_swap_equal"] = False
            notes["memory_swap_equal"] = "swap accounting is off (boot with swapaccount=1)"
        return Capabilities(self.name, enforced, notes)

    def start(self, spec: SandboxSpec) -> BwrapSandbox:
        self.check()
        if spec.gpu:
            raise SandboxUnavailableError("the bwrap provider has no GPU support; use the docker provider")
        root = os.geteuid() == 0
        if spec.network.mode == "allow" and not root:
            raise SandboxUnavailableError("a network allow-list needs root (network namespaces and nftables)")
        folder = self.root / spec.label / new_id()
        folder.mkdir(parents=True)
        state: dict[str, Any] = {"label": spec.label, "pid": None, "cgroup": [], "netns": False}
        save_state(folder, state)
        try:
            return self._start(spec, folder, state, root)
        except BaseException:
            self.teardown(folder)
            raise

    def _start(self, spec: SandboxSpec, folder: Path, state: dict[str, Any], root: bool) -> BwrapSandbox:
        uid = os.getuid()
        if root:
            try:
                lease = uids.lease("sandbox", key=folder.name)
            except uids.UidsExhausted as exc:
                raise SandboxUnavailableError(str(exc)) from exc
            uid = state["uid"] = lease.uid
            save_state(folder, state)
        disk.make_workspace(folder, spec.disk_mb, uid)
        group = cgroups.create(folder.name, memory_bytes=spec.memory_mb << 20, cpus=spec.cpus, pids=spec.pids)
        if group is not None:
            state.update(cgroup=[str(p) for p in group.paths], cgroup_version=group.version)
            save_state(folder, state)
        hosts, netns = {}, None
        if spec.network.mode == "allow":
            state["netns"] = True
            save_state(folder, state)
            with open(self.root / ".network.lock", "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                netns, gateway = network.create_netns(folder.name, spec.network.allow)
            netns = f"/run/netns/{netns}"
            hosts = {e.name: gateway for e in spec.network.allow}
        _etc_files(folder, hosts)
        # The host binds the exec server's socket in a folder of its own and passes the listening socket in:
        # nothing inside can see, replace or fill that folder.
        ctl = folder / "ctl"
        ctl.mkdir(mode=0o700)
        listener = listen_unix(ctl / "execd.sock")
        inode = os.stat(ctl / "execd.sock").st_ino
        sources = [folder / "workspace", EXECD, folder / "etc", *python_roots()]
        binds = [str(p) for p in sources] if not root else [f"{STAGE}/{i}" for i in range(len(sources))]
        # Every process of the sandbox runs under the seccomp filter (sockets allowed: its network namespace
        # and the allow-list decide where they reach; raw packet sockets refused).
        sec_fd = seccomp.filter_fd(network=True)
        argv = self._argv(spec, sources, binds, netns is None, listener.fileno(), sec_fd)
        procs = [p / "cgroup.procs" for p in group.paths] if group else []
        log_r, log_w = os.pipe()
        try:
            with listener:
                proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log_w,
                    stderr=log_w,
                    start_new_session=True,
                    pass_fds=(listener.fileno(), sec_fd),
                    preexec_fn=enter(procs, netns, sources, self.root, uid) if root else None,
                )
        except BaseException:
            os.close(log_r)
            raise
        finally:
            os.close(log_w)
            os.close(sec_fd)
        log = drain_log(log_r, folder / "sandbox.log")
        state["pid"] = proc.pid
        save_state(folder, state)
        endpoints = {e.name: f"{e.name}:{e.port}" for e in spec.network.allow} if spec.network.mode == "allow" else {}
        sandbox = BwrapSandbox(self, folder, spec, proc, endpoints, log)
        sandbox.client.inode = inode
        try:
            sandbox.client.wait_ready(30, lambda: proc.poll() is None)
        except SandboxUnavailableError as exc:
            log.join(2)
            log_tail = (folder / "sandbox.log").read_text(errors="replace")[-1000:]
            raise SandboxUnavailableError(f"{exc}\n{log_tail}") from exc
        return sandbox

    def _argv(
        self, spec: SandboxSpec, sources: list[Path], binds: list[str], no_net: bool, listen_fd: int, sec_fd: int
    ) -> list[str]:
        workspace, execd, etc, *roots = binds
        argv = base_argv("sandbox", network=not no_net, system=SYSTEM_DIRS, tmp_bytes=spec.tmp_mb << 20)
        # /tmp first, so a checkout or virtualenv under /tmp is bound over the fresh tmpfs, not hidden by it.
        # Every folder the sandbox can write is capped: /dev is read-only but for a /dev/shm the size of /tmp.
        argv += ["--as-pid-1", "--seccomp", str(sec_fd), "--remount-ro", "/dev"]
        argv += ["--size", str(spec.tmp_mb << 20), "--tmpfs", "/tmp"]
        dests = [*SYSTEM_DIRS, *(str(p) for p in sources[3:])]
        for bind, dest in zip(roots, sources[3:], strict=True):
            argv += ["--ro-bind", bind, str(dest)]
        for path in hidden_paths(CoreSettings().home, self.root, *spec.hidden):
            if any(path == d or path.startswith(d.rstrip("/") + "/") for d in dests):
                argv += ["--size", "4096", "--tmpfs", path, "--remount-ro", path]
        for name in ("passwd", "group", "hosts"):
            argv += ["--ro-bind", f"{etc}/{name}", f"/etc/{name}"]
        argv += [
            "--dir",
            "/run",
            "--ro-bind",
            execd,
            "/run/execd.py",
            "--bind",
            workspace,
            WORKDIR,
            "--remount-ro",
            "/",
            "--chdir",
            WORKDIR,
            "--clearenv",
        ]
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": WORKDIR,
            "USER": SANDBOX_USER,
            "LANG": "C.UTF-8",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "AAR_HOME": f"{WORKDIR}/.aar",
            "AAR_DEVICE": "cpu",
            "AAR_SANDBOX_ID": sources[0].parent.name,
            **_engine_path(),
            **spec.env,
        }
        for key, value in env.items():
            argv += ["--setenv", key, value]
        return argv + ["--", sys.executable, "-I", "/run/execd.py", f"fd:{listen_fd}", WORKDIR]

    def teardown(self, folder: Path) -> None:
        """Kill the sandbox's processes and release its cgroup, network and disk (idempotent)."""
        state = load_state(folder)
        pid = state.get("pid")
        if pid and _is_our_bwrap(pid, folder.name):
            kill_tree(pid, settle_s=0)
        group = _cgroup(state)
        if group is not None:
            group.remove()
        if state.get("netns"):
            network.delete_netns(folder.name)
        disk.release_workspace(folder)
        uids.release(folder.name)
        if state:
            save_state(folder, {**state, "stopped": True})

    def sweep(self, label: str) -> list[str]:
        folders = live(self.root, label)
        for folder in folders:
            self.teardown(folder)
        return [f.name for f in folders]


def _is_our_bwrap(pid: int, sandbox_id: str) -> bool:
    """Whether ``pid`` is still this sandbox's bwrap (and not a reused pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return bool(cmdline) and cmdline[0].endswith(b"bwrap") and any(sandbox_id.encode() in a for a in cmdline)
