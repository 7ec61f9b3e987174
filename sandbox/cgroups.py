"""Resource limits through cgroups, v1 (one hierarchy per controller) or v2 (unified), detected at run time.

v1: the sandbox's groups nest under this process's own group in each hierarchy (so the host's limits
on us still hold), ``memory.memsw.limit_in_bytes`` equal to the memory limit when swap accounting
exists, and the freezer to kill a group without races. v2: ``/sys/fs/cgroup/aar-sandboxes/<name>``
with ``memory.swap.max = 0`` and ``cgroup.kill``. Writing needs root (or a delegated subtree).
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
V1_CONTROLLERS = ("memory", "pids", "cpu", "freezer")
PARENT = "aar-sandboxes"
CFS_PERIOD_US = 100_000


def version() -> int | None:
    """2 for a unified hierarchy, 1 for per-controller hierarchies, None without cgroups."""
    if (ROOT / "cgroup.controllers").exists():
        return 2
    if (ROOT / "memory").is_dir():
        return 1
    return None


def _own_path(controller: str) -> str:
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return path.lstrip("/")
    return ""


def swap_total() -> int:
    """SwapTotal of the host, in bytes."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("SwapTotal:"):
            return int(line.split()[1]) * 1024
    return 0


@dataclass
class Cgroup:
    """One sandbox's group(s): one folder on v2, one per controller on v1."""

    version: int
    paths: list[Path]
    enforced: dict[str, bool] = field(default_factory=dict)

    def join(self, pid: int) -> None:
        """Move ``pid`` into the group (call it from the child before it execs)."""
        for path in self.paths:
            (path / "cgroup.procs").write_text(str(pid))

    def pids(self) -> set[int]:
        found: set[int] = set()
        for path in self.paths:
            try:
                found |= {int(p) for p in (path / "cgroup.procs").read_text().split()}
            except OSError:
                pass
        return found

    def oom_kills(self) -> int:
        """How many processes the kernel killed for memory in this group."""
        for path in self.paths:
            for name, key in (("memory.events", "oom_kill"), ("memory.oom_control", "oom_kill")):
                try:
                    for line in (path / name).read_text().splitlines():
                        if line.startswith(key + " "):
                            return int(line.split()[1])
                except OSError:
                    continue
        return 0

    def kill(self, timeout: float = 10.0) -> None:
        """SIGKILL every process in the group and wait until it is empty."""
        kill_file = self.paths[0] / "cgroup.kill" if self.version == 2 else None
        freezer = next((p / "freezer.state" for p in self.paths if (p / "freezer.state").exists()), None)
        deadline = time.monotonic() + timeout
        while self.pids() and time.monotonic() < deadline:
            if kill_file is not None and kill_file.exists():
                kill_file.write_text("1")
            else:
                if freezer is not None:
                    freezer.write_text("FROZEN")
                for pid in self.pids():
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                if freezer is not None:
                    freezer.write_text("THAWED")
            time.sleep(0.02)

    def remove(self) -> None:
        """Kill what is left, then delete the group folders (idempotent)."""
        existing = [p for p in self.paths if p.exists()]
        if not existing:
            return
        self.paths = existing
        self.kill()
        for path in existing:
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)


def create(name: str, *, memory_bytes: int, cpus: float, pids: int) -> Cgroup | None:
    """Create the group ``name`` with its limits; None when cgroups are absent or not writable."""
    v = version()
    try:
        if v == 1:
            return _create_v1(name, memory_bytes, cpus, pids)
        if v == 2:
            return _create_v2(name, memory_bytes, cpus, pids)
    except PermissionError:
        return None
    return None


def _create_v1(name: str, memory_bytes: int, cpus: float, pids: int) -> Cgroup:
    paths = []
    for controller in V1_CONTROLLERS:
        mount = ROOT / controller
        if mount.is_dir():
            path = mount / _own_path(controller) / PARENT / name
            path.mkdir(parents=True, exist_ok=True)
            paths.append(path)
    group = Cgroup(1, paths)
    by = {p.parts[len(ROOT.parts)]: p for p in paths}
    enforced = group.enforced
    if "memory" in by:
        (by["memory"] / "memory.limit_in_bytes").write_text(str(memory_bytes))
        memsw = by["memory"] / "memory.memsw.limit_in_bytes"
        if memsw.exists():
            memsw.write_text(str(memory_bytes))
        enforced["memory_limit"] = True
        enforced["memory_swap_equal"] = memsw.exists() or swap_total() == 0
    if "pids" in by:
        (by["pids"] / "pids.max").write_text(str(pids))
        enforced["pids_limit"] = True
    if "cpu" in by:
        (by["cpu"] / "cpu.cfs_period_us").write_text(str(CFS_PERIOD_US))
        (by["cpu"] / "cpu.cfs_quota_us").write_text(str(int(cpus * CFS_PERIOD_US)))
        enforced["cpu_limit"] = True
    return group


def _create_v2(name: str, memory_bytes: int, cpus: float, pids: int) -> Cgroup:
    parent = ROOT / PARENT
    parent.mkdir(exist_ok=True)
    available = set((ROOT / "cgroup.controllers").read_text().split())
    wanted = [c for c in ("memory", "pids", "cpu") if c in available]
    for folder in (ROOT, parent):
        enabled = set((folder / "cgroup.subtree_control").read_text().split())
        missing = [c for c in wanted if c not in enabled]
        if missing:
            (folder / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in missing))
    path = parent / name
    path.mkdir(exist_ok=True)
    group = Cgroup(2, [path])
    if (path / "memory.max").exists():
        (path / "memory.max").write_text(str(memory_bytes))
        if (path / "memory.swap.max").exists():
            (path / "memory.swap.max").write_text("0")
        group.enforced["memory_limit"] = True
        group.enforced["memory_swap_equal"] = (path / "memory.swap.max").exists() or swap_total() == 0
    if (path / "pids.max").exists():
        (path / "pids.max").write_text(str(pids))
        group.enforced["pids_limit"] = True
    if (path / "cpu.max").exists():
        (path / "cpu.max").write_text(f"{int(cpus * CFS_PERIOD_US)} {CFS_PERIOD_US}")
        group.enforced["cpu_limit"] = True
    return group
