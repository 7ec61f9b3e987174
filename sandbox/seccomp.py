"""The seccomp filter for untrusted code — method jails and sandbox commands — built with libseccomp
(``pyseccomp``, a ctypes binding to the system's ``libseccomp.so.2``).

The filter refuses the system calls that reconfigure the kernel or other processes — mounts, namespaces,
ptrace, BPF, keyrings, modules, kexec, handle-based opens, perf events, userfaultfd, chroot, swap,
reboot — the ones that read the host's page cache or bypass it (``cachestat``, ``preadv2``/``pwritev2``,
io_uring), and raw packet sockets; a jail (no network at all) also refuses Internet sockets. A call through
another ABI (i386, or x32 on x86_64) kills the process. Everything else is allowed: the namespaces, uid and
empty capability set do the rest. Normal work (Python, pip, git, compilers, threads, ``multiprocessing``)
needs none of the refused calls: the conformance suite runs under the filter on every provider.

With ``notify=True`` a refused call is handed to a supervisor outside the caller's process
(``SECCOMP_RET_USER_NOTIF``), which answers ``EPERM`` and counts it: that count, kept by the kernel's
notification and not by anything the untrusted process can reach, is what decides the jail's
``jail_violation`` flag. Without a listener the kernel answers ``ENOSYS``; with ``notify=False`` the
filter answers ``EPERM`` itself.

libseccomp replaced a hand-assembled BPF table (wave 3): the same refusals, numbers resolved per
architecture by the library, 464 against 448 bytes of program, 0.8 ms against 0.02 ms to build (once per
jail or sandbox start).
"""

from __future__ import annotations

import errno
import os
import socket
from types import ModuleType
from typing import cast

from sandbox.base import SandboxUnavailableError

DENIED = (
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "unshare",
    "setns",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "keyctl",
    "add_key",
    "request_key",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "open_by_handle_at",
    "name_to_handle_at",
    "swapon",
    "swapoff",
    "reboot",
    "acct",
    "quotactl",
    "syslog",
    "vhangup",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "cachestat",
    "preadv2",
    "pwritev2",
)
# socket(2) domains refused: raw packets always; the Internet too where there is no network (the jail).
PACKET_DOMAINS: dict[int, str] = {int(socket.AF_PACKET): "AF_PACKET"}
NETWORK_DOMAINS: dict[int, str] = {int(socket.AF_INET): "AF_INET", int(socket.AF_INET6): "AF_INET6", **PACKET_DOMAINS}
LOW_WORD = 0xFFFFFFFF  # socket's domain is an int: the kernel ignores the high word, so the filter must too


def _library() -> ModuleType:
    try:
        import pyseccomp  # type: ignore[import-untyped]
    except (ImportError, OSError) as exc:  # the binding, or the system library it loads
        raise SandboxUnavailableError(
            f"libseccomp is not available ({exc}): `apt-get install -y libseccomp2` and `pip install pyseccomp`"
        ) from exc
    return cast(ModuleType, pyseccomp)


def program(*, notify: bool = False, network: bool = False) -> bytes:
    """The filter for this machine's architecture as ``struct sock_filter[]`` bytes: refused calls go to a
    user-space supervisor when ``notify`` (see the module's docstring), else fail with ``EPERM``; Internet
    sockets are refused unless ``network``."""
    fd = filter_fd(notify=notify, network=network)
    try:
        return os.read(fd, os.fstat(fd).st_size)
    finally:
        os.close(fd)


def filter_fd(*, notify: bool = False, network: bool = False) -> int:
    """A readable descriptor holding ``program(notify=, network=)``, positioned at its start (``bwrap
    --seccomp`` reads one)."""
    lib = _library()
    refuse = lib.NOTIFY if notify else lib.ERRNO(errno.EPERM)
    rules = lib.SyscallFilter(defaction=lib.ALLOW)
    rules.set_attr(lib.Attr.ACT_BADARCH, lib.KILL_PROCESS)
    for name in DENIED:
        rules.add_rule(refuse, name)
    for domain in PACKET_DOMAINS if network else NETWORK_DOMAINS:
        rules.add_rule(refuse, "socket", lib.Arg(0, lib.MASKED_EQ, LOW_WORD, int(domain)))
    fd = os.memfd_create("seccomp", 0)
    with os.fdopen(os.dup(fd), "wb") as out:
        rules.export_bpf(out)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def describe(key: str) -> str:
    """The name of a refused call as the jail's supervisor reports it (``"<nr>"`` or ``"<nr>:<domain>"``)."""
    lib = _library()
    nr, _, domain = key.partition(":")
    if not nr.isdigit():
        return "unknown"
    try:
        name = str(lib.resolve_syscall(lib.system_arch(), int(nr)).decode())
    except (ValueError, OSError):
        return f"syscall {nr}"
    if name == "socket":
        return f"socket({NETWORK_DOMAINS.get(int(domain), 'socket')})" if domain.isdigit() else "socket"
    return name
