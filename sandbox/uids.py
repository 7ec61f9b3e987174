"""Host uids for sandboxes and jails: a distinct one per sandbox, from a subordinate range of this machine.

The kernel keeps some counters per user (inotify instances and watches, processes, pending signals, message
queues, locked memory): with one host uid for every sandbox, one sandbox could use up another's. Each sandbox
(and each scorer jail) therefore runs as a uid of its own, leased here from ``AAR_SANDBOX_UID_BASE`` on
(``AAR_SANDBOX_UID_COUNT`` uids: the first half for sandboxes, the second for jails).

A lease is an ``flock`` on ``<AAR_SANDBOX_UID_LOCKS>/<uid>``: the kernel drops it when its holder exits, so
a crashed controller leaks none. A uid is handed out only when its lock is free, no account of this machine
has it, and no process this one can see runs as it (a sandbox that outlived its controller keeps its uid
until it is swept). Candidates are tried in a random order, so allocators that do not share the lock folder
(containers) rarely meet.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import random
import weakref
from pathlib import Path
from typing import Literal

from sandbox.base import SANDBOX_USER, WORKDIR
from sandbox.settings import get_settings

Pool = Literal["sandbox", "jail"]
_owned: weakref.WeakKeyDictionary[object, Lease] = weakref.WeakKeyDictionary()
_keyed: dict[str, Lease] = {}  # sandbox id → its lease, for whichever provider object tears it down


class UidsExhausted(RuntimeError):
    """Every uid of the pool is in use."""


class Lease:
    """One uid, held until ``release`` (or the holder's exit)."""

    def __init__(self, uid: int, fd: int):
        self.uid, self._fd = uid, fd

    def release(self) -> None:
        """Give the uid back (idempotent); its processes must be gone first."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        self.release()


def pool_range(pool: Pool) -> range:
    """The uids of ``pool``."""
    settings = get_settings()
    half = settings.uid_count // 2
    start = settings.uid_base + (half if pool == "jail" else 0)
    return range(start, start + half)


def lease(pool: Pool, key: str | None = None) -> Lease:
    """A uid of ``pool`` that nothing else holds or runs as; ``UidsExhausted`` when there is none. With ``key``
    (a sandbox id), ``release(key)`` gives it back."""
    folder = get_settings().uid_locks
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    busy = running_uids()
    candidates = list(pool_range(pool))
    random.shuffle(candidates)
    for uid in candidates:
        if uid in busy or _has_account(uid):
            continue
        fd = os.open(folder / str(uid), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        if uid in running_uids():  # a process of the uid appeared between the scan and the lock
            os.close(fd)
            continue
        held = Lease(uid, fd)
        if key is not None:
            _keyed[key] = held
        return held
    raise UidsExhausted(f"all {len(candidates)} uids of the {pool} pool are in use")


def release(key: str) -> None:
    """Give back the lease taken for ``key`` in this process, if any (idempotent)."""
    held = _keyed.pop(key, None)
    if held is not None:
        held.release()


def lease_for(owner: object, pool: Pool) -> Lease:
    """The lease of ``owner`` (one per owner, taken on first use), given back when ``owner`` is collected."""
    held = _owned.get(owner)
    if held is None:
        held = _owned[owner] = lease(pool)
        weakref.finalize(owner, held.release)
    return held


def held(uid: int) -> bool:
    """Whether a lease on ``uid`` is held by any process (this one included)."""
    path = get_settings().uid_locks / str(uid)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def account_files(folder: Path, uid: int) -> None:
    """``passwd`` and ``group`` in ``folder`` that name ``uid`` the sandbox user (home ``/workspace``)."""
    (folder / "passwd").write_text(
        "root:x:0:0:root:/root:/usr/sbin/nologin\n"
        f"{SANDBOX_USER}:x:{uid}:{uid}::{WORKDIR}:/bin/bash\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    )
    (folder / "group").write_text(f"root:x:0:\n{SANDBOX_USER}:x:{uid}:\nnogroup:x:65534:\n")


def running_uids(proc: Path = Path("/proc")) -> set[int]:
    """The real uids of every process this one can see."""
    found = set()
    for pid in filter(str.isdigit, os.listdir(proc)):
        try:
            with open(proc / pid / "status") as f:
                found.add(int(next(line.split()[1] for line in f if line.startswith("Uid:"))))
        except (OSError, StopIteration, ValueError):
            continue
    return found


def _has_account(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True
