"""A size-capped workspace: a sparse ext4 image, loop-mounted on the host folder behind ``/workspace``.

Both providers use it, so filling the workspace ends with ENOSPC inside the sandbox, never with a full
host disk. Needs root, ``mkfs.ext4`` and loop devices; without them the workspace is a plain folder
and ``capabilities()`` says the disk quota is not enforced.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sandbox.base import SandboxUnavailableError

IMAGE = "disk.img"


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
        with open(image, "wb") as f:
            f.truncate(size_mb * 1024 * 1024)
        for argv in (
            ["mkfs.ext4", "-q", "-F", "-m", "0", "-O", "^has_journal", "-E", f"root_owner={uid}:{uid}", str(image)],
            ["mount", "-o", "loop,nosuid,nodev,noatime", str(image), str(workspace)],
        ):
            proc = subprocess.run(argv, capture_output=True, text=True)
            if proc.returncode != 0:
                raise SandboxUnavailableError(f"{argv[0]} failed for {image}: {proc.stderr.strip()}")
        (workspace / "lost+found").rmdir()
    os.chown(workspace, uid, uid)
    os.chmod(workspace, 0o755)
    return capped


def release_workspace(folder: Path) -> None:
    """Unmount the workspace image (its loop device goes with it); the data stays in ``disk.img``. Idempotent."""
    workspace = folder / "workspace"
    if is_mounted(workspace):
        subprocess.run(["umount", "-l", str(workspace)], capture_output=True)
