"""A seccomp filter for untrusted code, assembled by hand as classic BPF (no libseccomp needed).

The filter answers ``EPERM`` to the system calls that reconfigure the kernel or other processes —
mounts, namespaces, ptrace, BPF, keyrings, modules, kexec, handle-based opens, perf events,
userfaultfd, chroot, swap, reboot — and kills a process that calls in through another ABI (i386 or
x32 on x86_64). Everything else is allowed: the jail's namespaces, uid and empty capability set do the
rest. bubblewrap installs it (``--seccomp FD``) just before it executes the jailed program.
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
}
X32_SYSCALL_BIT = 0x40000000
RET_ALLOW, RET_ERRNO, RET_KILL_PROCESS = 0x7FFF0000, 0x00050000, 0x80000000
LD_W_ABS, JEQ_K, JGE_K, RET_K = 0x20, 0x15, 0x35, 0x06
NR_OFFSET, ARCH_OFFSET = 0, 4  # struct seccomp_data


def _insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def program(machine: str | None = None) -> bytes:
    """The filter for ``machine`` (this one by default) as ``struct sock_filter[]`` bytes."""
    machine = machine or platform.machine()
    if machine not in AUDIT_ARCH:
        raise SandboxUnavailableError(f"no seccomp filter for the {machine} architecture")
    column = 0 if machine == "x86_64" else 1
    numbers = sorted({nrs[column] for nrs in DENIED.values()})
    checks: list[tuple[int, int]] = [(JGE_K, X32_SYSCALL_BIT)] if machine == "x86_64" else []
    checks += [(JEQ_K, nr) for nr in numbers]
    insns = [
        _insn(LD_W_ABS, ARCH_OFFSET),
        _insn(JEQ_K, AUDIT_ARCH[machine], jt=1),
        _insn(RET_K, RET_KILL_PROCESS),
        _insn(LD_W_ABS, NR_OFFSET),
    ]
    for i, (code, k) in enumerate(checks):
        insns.append(_insn(code, k, jt=len(checks) - i))  # jump over the rest and RET_ALLOW to RET_ERRNO
    insns += [_insn(RET_K, RET_ALLOW), _insn(RET_K, RET_ERRNO | errno.EPERM)]
    return b"".join(insns)


def filter_fd() -> int:
    """A readable descriptor holding ``program()``, positioned at its start, for ``bwrap --seccomp``."""
    fd = os.memfd_create("seccomp", 0)
    os.write(fd, program())
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
