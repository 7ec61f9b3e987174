"""The one bubblewrap front end: how untrusted code — a sandbox's exec server and its commands, or the
scorer's method jail — is started, for ``sandbox.providers.bwrap`` and ``sandbox.jail`` alike.

``base_argv`` is the isolation both share (new user, PID, IPC, UTS and cgroup namespaces, no nested user
namespaces, the sandbox uid, no capabilities, optionally no network, a read-only system, a fresh ``/proc``,
``/dev`` and a size-capped ``/dev/shm``); each caller adds its own binds and command. ``enter`` is the
staging child's setup as root (join the cgroup and netns, stage the sources, drop to the host uid before
bwrap runs). The seccomp filter (``sandbox.seccomp``) covers both: the sandbox's through ``bwrap
--seccomp``, the jail's installed by its zygote with a supervisor listening.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from sandbox.base import SANDBOX_UID, SandboxUnavailableError

STAGE = "/tmp"  # where the child binds its sources, on a tmpfs of its private mount namespace
SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
CLONE_NEWNS, CLONE_NEWNET = 0x00020000, 0x40000000
MS_BIND, MS_REC, MS_PRIVATE, MNT_DETACH = 4096, 16384, 1 << 18, 2
LOOP_MAJOR = 7  # the block major of /dev/loop*
_libc = ctypes.CDLL(None, use_errno=True)


def check_bwrap() -> None:
    """Raise ``SandboxUnavailableError`` saying what to install when bubblewrap cannot work here."""
    if shutil.which("bwrap") is None:
        raise SandboxUnavailableError("bubblewrap is not installed: `apt-get install -y bubblewrap`")
    probe = subprocess.run(["bwrap", "--ro-bind", "/", "/", "--unshare-all", "--", "true"], capture_output=True)
    if probe.returncode != 0:
        raise SandboxUnavailableError(f"bubblewrap cannot create namespaces here: {probe.stderr.decode()[-300:]}")


def base_argv(hostname: str, *, network: bool, system: tuple[str, ...], tmp_bytes: int) -> list[str]:
    """The bwrap command line's shared part: ``isolation_args``, a network namespace of its own unless
    ``network`` (the caller joins one), the ``system`` folders read-only with the top-level links, a fresh
    ``/proc``, ``/dev`` and a ``/dev/shm`` of ``tmp_bytes``."""
    argv = [shutil.which("bwrap") or "bwrap", *isolation_args(hostname)]
    argv += [] if network else ["--unshare-net"]
    for path in system:
        argv += ["--ro-bind", path, path] if os.path.isdir(path) else []
    argv += system_link_args()
    return argv + ["--proc", "/proc", "--dev", "/dev", "--size", str(tmp_bytes), "--tmpfs", "/dev/shm"]


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = [s.encode() if s is not None else None for s in (source, target, fstype, data)]
    if _libc.mount(enc[0], enc[1], enc[2], flags, enc[3]) != 0:
        raise OSError(ctypes.get_errno(), f"mount {source} on {target}")


def _detach_foreign(root: Path | None, own: Path | None) -> None:
    """In this private mount namespace, detach every loop-device mount (the sandboxes' workspaces, of any
    ``AAR_HOME``) and, with a sandboxes ``root``, every mount under it — but those under ``own``: the copies
    would otherwise keep other sandboxes' loop devices alive as long as this process lives."""
    with open("/proc/self/mountinfo") as f:
        mounts = [(fields[4], fields[2]) for fields in (line.split() for line in f)]
    prefix, mine = (f"{root}/" if root else None), (f"{own}/" if own else None)
    points = [
        point
        for point, device in mounts
        if (device.startswith(f"{LOOP_MAJOR}:") or (prefix and point.startswith(prefix)))
        and not (mine and point.startswith(mine))
    ]
    for point in sorted(points, reverse=True):
        _libc.umount2(point.encode(), MNT_DETACH)


def enter(
    procs: list[Path],
    netns: str | None,
    sources: list[Path],
    root: Path | None = None,
    uid: int = SANDBOX_UID,
) -> Callable[[], None]:
    """The child's setup as root: join the cgroup and netns, stage the sources, drop to host ``uid``. Every
    loop-device mount is detached first and, with a sandboxes ``root``, every mount under it, but those of
    ``sources[0]``'s folder (the sandbox's own workspace)."""

    def preexec() -> None:
        for path in procs:
            path.write_text(str(os.getpid()))
        if netns is not None:
            fd = os.open(netns, os.O_RDONLY)
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns")
            os.close(fd)
        if _libc.unshare(CLONE_NEWNS) != 0:
            raise OSError(ctypes.get_errno(), "unshare")
        _mount("none", "/", None, MS_REC | MS_PRIVATE)
        _detach_foreign(root, sources[0].parent if root is not None else None)
        fds = [os.open(src, os.O_PATH) for src in sources]  # before the stage hides a source under /tmp
        dirs = [src.is_dir() for src in sources]
        _mount("tmpfs", STAGE, "tmpfs", 0, "mode=0755,size=1m")
        for i, (fd, is_dir) in enumerate(zip(fds, dirs, strict=True)):
            target = f"{STAGE}/{i}"
            if is_dir:
                os.mkdir(target)
            else:
                open(target, "w").close()
            _mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC)
            os.close(fd)
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)

    return preexec


def isolation_args(hostname: str) -> list[str]:
    """bwrap's isolation for untrusted code: new user, PID, IPC, UTS and cgroup namespaces, no nested user
    namespaces, the sandbox uid and gid, its own session and no capabilities (the network is the caller's)."""
    return [
        "--unshare-user",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--disable-userns",
        "--uid",
        str(SANDBOX_UID),
        "--gid",
        str(SANDBOX_UID),
        "--hostname",
        hostname,
        "--new-session",
        "--cap-drop",
        "ALL",
    ]


def system_link_args() -> list[str]:
    """The top-level system links (``/bin`` → ``usr/bin`` …) as links, or read-only binds where they are folders."""
    argv: list[str] = []
    for path in SYSTEM_LINKS:
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            argv += ["--ro-bind", path, path]
    return argv
