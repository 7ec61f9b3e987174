"""A size-capped workspace: an ext4 image, loop-mounted on the host folder behind ``/workspace``.

Both providers use it, so filling the workspace ends with ENOSPC inside the sandbox, never with a full
host disk. The image is allocated in full (``fallocate``) before the sandbox starts, and only while
``AAR_SANDBOX_DISK_RESERVE_MB`` of the host's disk stays free besides: the host never promises more disk
than it has. Needs root, ``mkfs.ext4`` and loop devices; without them the workspace is a plain folder
and ``capabilities()`` says the disk quota is not enforced.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import time
from pathlib import Path

from sandbox.base import SandboxUnavailableError
from sandbox.settings import get_settings

IMAGE = "disk.img"
_libc = ctypes.CDLL(None, use_errno=True)
CONTROL_BYTES = 64 * 1024  # the exec server's socket folder (Docker): room for a socket, not for data


def quota_available() -> bool:
    """Whether this machine can give a workspace a hard size cap."""
    return os.geteuid() == 0 and shutil.which("mkfs.ext4") is not None and Path("/dev/loop-control").exists()


def is_mounted(path: Path) -> bool:
    target = str(path)
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == target for line in f)


def make_workspace(folder: Path, size_mb: int, uid: int) -> bool:
    """Create ``folder/workspace`` owned by ``uid``, capped at ``size_mb`` when possible; returns whether capped."""
    workspace = folder / "workspace"
    workspace.mkdir(parents=True, exist_ok=True)
    capped = quota_available()
    if capped:
        image = folder / IMAGE
        allocate(image, size_mb << 20)
        options = f"root_owner={uid}:{uid},nodiscard"  # discarding would punch the allocation back out
        for argv in (
            ["mkfs.ext4", "-q", "-F", "-m", "0", "-O", "^has_journal", "-E", options, str(image)],
            ["mount", "-o", "loop,nosuid,nodev,noatime", str(image), str(workspace)],
        ):
            proc = subprocess.run(argv, capture_output=True, text=True)
            if proc.returncode != 0:
                raise SandboxUnavailableError(f"{argv[0]} failed for {image}: {proc.stderr.strip()}")
        (workspace / "lost+found").rmdir()
    os.chown(workspace, uid, uid)
    os.chmod(workspace, 0o755)
    return capped


def allocate(image: Path, size: int) -> None:
    """Create ``image`` with ``size`` bytes allocated on the host disk (not sparse), leaving at least
    ``AAR_SANDBOX_DISK_RESERVE_MB`` free; ``SandboxUnavailableError`` saying what is missing otherwise."""
    reserve = get_settings().disk_reserve_mb << 20
    free = shutil.disk_usage(image.parent).free
    if free - size < reserve:
        raise SandboxUnavailableError(
            f"not enough disk for a {size >> 20} MiB workspace: {free >> 20} MiB free on {image.parent}, and "
            f"{reserve >> 20} MiB must stay free (AAR_SANDBOX_DISK_RESERVE_MB)"
        )
    fd = os.open(image, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        if _libc.fallocate(fd, 0, ctypes.c_long(0), ctypes.c_long(size)) != 0:
            err = ctypes.get_errno()
            raise SandboxUnavailableError(f"cannot allocate the {size >> 20} MiB workspace disk: {os.strerror(err)}")
    except BaseException:
        os.unlink(image)
        raise
    finally:
        os.close(fd)


def release_workspace(folder: Path) -> None:
    """Unmount the workspace image and detach its loop device; the data stays in ``disk.img``. Idempotent.

    A process that copied the host's mounts into a namespace of its own while the workspace was
    mounted (another sandbox's setup, a scorer jail's ``--ro-bind / /``) keeps a copy of the mount,
    and with it the loop device; so the image is also unmounted in every namespace that still holds it.
    """
    workspace = folder / "workspace"
    if is_mounted(workspace):
        subprocess.run(["umount", "-l", str(workspace)], capture_output=True)
    image = folder / IMAGE
    device = loop_device(image)
    if device is None:
        return
    for pid, mountpoint in foreign_mounts(device):
        subprocess.run(["nsenter", "-t", str(pid), "-m", "umount", "-l", mountpoint], capture_output=True)
    deadline = time.monotonic() + 5
    while loop_device(image) is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    if loop_device(image) is not None:  # still held (an open file in a namespace we cannot enter)
        subprocess.run(["losetup", "-d", f"/dev/{device[0]}"], capture_output=True)


def loop_device(image: Path) -> tuple[str, str] | None:
    """The loop device backing ``image`` as (name, ``major:minor``), or ``None``."""
    target = str(image)
    for backing in Path("/sys/block").glob("loop*/loop/backing_file"):
        try:
            if backing.read_text().strip().removesuffix(" (deleted)") == target:
                return backing.parents[1].name, (backing.parents[1] / "dev").read_text().strip()
        except OSError:
            continue
    return None


def foreign_mounts(device: tuple[str, str]) -> list[tuple[int, str]]:
    """(a pid, the mount point) for each mount namespace where the loop ``device`` is still mounted."""
    found, seen = [], set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            ns = os.stat(f"/proc/{pid}/ns/mnt").st_ino
            if ns in seen:
                continue
            seen.add(ns)
            with open(f"/proc/{pid}/mountinfo") as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        found += [(int(pid), line.split()[4]) for line in lines if line.split()[2] == device[1]]
    return found


def make_control_folder(path: Path, uid: int) -> bool:
    """Create the exec server's socket folder, owned by ``uid``: a 64 KiB tmpfs when possible (so what the
    sandbox writes there never reaches the host disk and goes with ``release_control_folder``); returns
    whether it is capped."""
    path.mkdir(mode=0o700)
    capped = quota_available()
    if capped:
        options = f"size={CONTROL_BYTES},nr_inodes=16,mode=0700,uid={uid},gid={uid},nosuid,nodev,noexec"
        proc = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "aar-ctl", str(path)], capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise SandboxUnavailableError(f"cannot mount the control folder {path}: {proc.stderr.strip()}")
    else:
        os.chown(path, uid, uid)
    return capped


def release_control_folder(path: Path) -> None:
    """Unmount the control folder's tmpfs (idempotent)."""
    if is_mounted(path):
        subprocess.run(["umount", "-l", str(path)], capture_output=True)
