"""A seccomp filter for untrusted code, assembled by hand as classic BPF (no libseccomp needed).

The filter refuses the system calls that reconfigure the kernel or other processes — mounts, namespaces,
ptrace, BPF, keyrings, modules, kexec, handle-based opens, perf events, userfaultfd, chroot, swap,
reboot — the ones that read the host's page cache or bypass it (``cachestat``, ``preadv2``/``pwritev2``,
io_uring), and sockets of the Internet and packet families; it kills a process that calls in through
another ABI (i386 or x32 on x86_64). Everything else is allowed: the jail's namespaces, uid and empty
capability set do the rest.

With ``notify=True`` a refused call is handed to a supervisor outside the caller's process
(``SECCOMP_RET_USER_NOTIF``), which answers ``EPERM`` and counts it: that count, kept by the kernel's
notification and not by anything the untrusted process can reach, is what decides the jail's
``jail_violation`` flag. Without a listener the kernel answers ``ENOSYS``; with ``notify=False`` the
filter answers ``EPERM`` itself.
"""

from __future__ import annotations

import errno
import os
import platform
import struct

from sandbox.base import SandboxUnavailableError

AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
# name: (x86_64, aarch64)
DENIED = {
    "mount": (165, 40),
    "umount2": (166, 39),
    "pivot_root": (155, 41),
    "chroot": (161, 51),
    "open_tree": (428, 428),
    "move_mount": (429, 429),
    "fsopen": (430, 430),
    "fsconfig": (431, 431),
    "fsmount": (432, 432),
    "fspick": (433, 433),
    "mount_setattr": (442, 442),
    "unshare": (272, 97),
    "setns": (308, 268),
    "ptrace": (101, 117),
    "process_vm_readv": (310, 270),
    "process_vm_writev": (311, 271),
    "bpf": (321, 280),
    "perf_event_open": (298, 241),
    "userfaultfd": (323, 282),
    "keyctl": (250, 219),
    "add_key": (248, 217),
    "request_key": (249, 218),
    "kexec_load": (246, 104),
    "kexec_file_load": (320, 294),
    "init_module": (175, 105),
    "finit_module": (313, 273),
    "delete_module": (176, 106),
    "open_by_handle_at": (304, 265),
    "name_to_handle_at": (303, 264),
    "swapon": (167, 224),
    "swapoff": (168, 225),
    "reboot": (169, 142),
    "acct": (163, 89),
    "quotactl": (179, 60),
    "syslog": (103, 116),
    "vhangup": (153, 58),
    "io_uring_setup": (425, 425),
    "io_uring_enter": (426, 426),
    "io_uring_register": (427, 427),
    "cachestat": (451, 451),
    "preadv2": (327, 286),
    "pwritev2": (328, 287),
}
SOCKET = (41, 198)
# socket(2) domains refused: the Internet and raw packets (a jail's or sandbox's loopback included).
NETWORK_DOMAINS = {2: "AF_INET", 10: "AF_INET6", 17: "AF_PACKET"}
X32_SYSCALL_BIT = 0x40000000
RET_ALLOW, RET_ERRNO, RET_USER_NOTIF, RET_KILL_PROCESS = 0x7FFF0000, 0x00050000, 0x7FC00000, 0x80000000
LD_W_ABS, JEQ_K, JGE_K, RET_K = 0x20, 0x15, 0x35, 0x06
NR_OFFSET, ARCH_OFFSET, ARG0_OFFSET = 0, 4, 16  # struct seccomp_data; the low word of args[0] (little endian)


def _insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def _column(machine: str | None) -> tuple[str, int]:
    machine = machine or platform.machine()
    if machine not in AUDIT_ARCH:
        raise SandboxUnavailableError(f"no seccomp filter for the {machine} architecture")
    return machine, 0 if machine == "x86_64" else 1


def program(machine: str | None = None, *, notify: bool = False) -> bytes:
    """The filter for ``machine`` (this one by default) as ``struct sock_filter[]`` bytes; refused calls
    go to a user-space supervisor when ``notify`` (see the module's docstring), else fail with ``EPERM``."""
    machine, column = _column(machine)
    refuse = RET_USER_NOTIF if notify else RET_ERRNO | errno.EPERM
    numbers = sorted({nrs[column] for nrs in DENIED.values()})
    checks: list[tuple[int, int]] = [(JGE_K, X32_SYSCALL_BIT)] if machine == "x86_64" else []
    checks += [(JEQ_K, nr) for nr in numbers]
    domains = sorted(NETWORK_DOMAINS)
    # Layout: arch check, load nr, one jump per refused number (to REFUSE), the socket check (to the
    # domain block), ALLOW, REFUSE, then the domain block: load arg 0, one jump per domain (to REFUSE), ALLOW.
    insns = [
        _insn(LD_W_ABS, ARCH_OFFSET),
        _insn(JEQ_K, AUDIT_ARCH[machine], jt=1),
        _insn(RET_K, RET_KILL_PROCESS),
        _insn(LD_W_ABS, NR_OFFSET),
    ]
    for i, (code, k) in enumerate(checks):
        insns.append(_insn(code, k, jt=len(checks) - i + 1))  # over the rest, the socket check and ALLOW
    insns.append(_insn(JEQ_K, SOCKET[column], jt=2))  # over ALLOW and REFUSE to the domain block
    insns += [_insn(RET_K, RET_ALLOW), _insn(RET_K, refuse)]
    insns.append(_insn(LD_W_ABS, ARG0_OFFSET))
    for i, domain in enumerate(domains):
        # to REFUSE: back is impossible in classic BPF, so the block ends with its own REFUSE
        insns.append(_insn(JEQ_K, domain, jt=len(domains) - i))
    insns += [_insn(RET_K, RET_ALLOW), _insn(RET_K, refuse)]
    return b"".join(insns)


def describe(key: str, machine: str | None = None) -> str:
    """The name of a refused call as the jail's supervisor reports it (``"<nr>"`` or ``"<nr>:<domain>"``)."""
    machine, column = _column(machine)
    nr, _, domain = key.partition(":")
    if nr.isdigit() and int(nr) == SOCKET[column]:
        name = NETWORK_DOMAINS.get(int(domain), "socket") if domain.isdigit() else "socket"
        return f"socket({name})"
    names = {nrs[column]: name for name, nrs in DENIED.items()}
    return names.get(int(nr), f"syscall {nr}") if nr.isdigit() else "unknown"


def filter_fd(*, notify: bool = False) -> int:
    """A readable descriptor holding ``program()``, positioned at its start (``bwrap --seccomp`` reads one)."""
    fd = os.memfd_create("seccomp", 0)
    os.write(fd, program(notify=notify))
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
