"""The scorer worker's seccomp profile, ``k8s/base/scoring/seccomp/aar-bwrap.json``, and how it is derived.

The worker runs each submitted method in bubblewrap with every namespace unshared. The container runtime's
default profile (what ``RuntimeDefault`` means) lets a process create namespaces and mount only when the
container has CAP_SYS_ADMIN, which ours does not have. This profile is that default, as containerd 2.x
defines it (``contrib/seccomp/seccomp_default.go``: the list allowed to every container, the ``personality``
values, the per-architecture additions), minus io_uring (as newer runtime defaults do, and bwrap needs none),
plus exactly what bubblewrap calls to build the jail: clone and clone3 with namespace flags, unshare, setns,
mount, umount, umount2 and pivot_root. Everything the default allows only with other capabilities (bpf,
perf_event_open, ptrace, keyctl, module loading, chroot, the new mount API ...) stays refused with EPERM.

The file is in the OCI runtime-spec format (``defaultAction``, ``architectures``, ``syscalls``): containerd
reads Localhost profiles into that structure and silently ignores Docker's extensions (``archMap``,
``includes``/``excludes``), which would turn a capability-conditional rule into an unconditional one. The
format is also what Docker's ``--security-opt seccomp=`` reads, which is how the profile was tried.
``tests/k8s/test_seccomp.py`` checks that the shipped file is what ``profile()`` builds.
"""

from __future__ import annotations

import json

from aar.k8s.render import ROOT

PATH = ROOT / "base" / "scoring" / "seccomp" / "aar-bwrap.json"
LOCALHOST_PROFILE = "profiles/aar-bwrap.json"  # relative to the kubelet's seccomp root, /var/lib/kubelet/seccomp

# containerd 2.x DefaultProfile: allowed for every container, whatever its capabilities.
RUNTIME_DEFAULT = """
accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32 clock_adjtime clock_adjtime64
clock_getres clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep clock_nanosleep_time64 close
close_range connect copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old
epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit exit_group faccessat
faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchown fchown32 fchownat fcntl
fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64
fsync ftruncate ftruncate64 futex futex_time64 futex_waitv futimesat getcpu getcwd getdents getdents64 getegid
getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp getpid
getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage
getsid getsockname getsockopt get_thread_area gettid gettimeofday getuid getuid32 getxattr inotify_add_watch
inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents io_pgetevents
io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit io_uring_enter io_uring_register io_uring_setup ipc
kill landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link linkat listen
listxattr llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64 madvise membarrier memfd_create
memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify
mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap msgctl msgget
msgrcv msgsnd msync munlock munlockall munmap nanosleep newfstatat _newselect open openat openat2 pause pidfd_open
pidfd_send_signal pipe pipe2 poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64 process_mrelease
pselect6 pselect6_time64 pwrite64 pwritev pwritev2 read readahead readlink readlinkat readv recv recvfrom recvmmsg
recvmmsg_time64 recvmsg remap_file_pages removexattr rename renameat renameat2 restart_syscall rmdir rseq
rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait
rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam sched_get_priority_max
sched_get_priority_min sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity
sched_setattr sched_setparam sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop
semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid
setgid32 setgroups setgroups32 setitimer setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid
setresuid32 setreuid setreuid32 setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address setuid
setuid32 setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 sigprocmask sigreturn socket
socketcall socketpair splice stat stat64 statfs statfs64 statx symlink symlinkat sync sync_file_range syncfs
sysinfo tee tgkill time timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime
timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill
truncate truncate64 ugetrlimit umask uname unlink unlinkat utime utimensat utimensat_time64 utimes vfork vmsplice
wait4 waitid waitpid write writev
""".split()
# The default's `personality` rule: only these personas (PER_LINUX, PER_LINUX32, UNAME26 variants, query).
PERSONALITIES = (0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF)
# Per-architecture additions of the default (x86: arch_prctl, modify_ldt; arm: the rest). A runtime skips a
# name its architecture does not have.
ARCH_SPECIFIC = [
    "arch_prctl",
    "modify_ldt",
    "arm_fadvise64_64",
    "arm_sync_file_range",
    "sync_file_range2",
    "breakpoint",
    "cacheflush",
    "set_tls",
]
ARCHITECTURES = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
LEFT_OUT = {"io_uring_enter", "io_uring_register", "io_uring_setup"}
# What bubblewrap needs beyond the default: create namespaces (clone/clone3 with CLONE_NEW* flags, unshare,
# setns), and build the jail's root (mount, umount, umount2, pivot_root).
JAIL = ["clone", "clone3", "unshare", "setns", "mount", "umount", "umount2", "pivot_root"]
# Never allowed: what the runtime default grants only with capabilities our containers drop, and more.
REFUSED = {
    "acct",
    "add_key",
    "bpf",
    "chroot",
    "delete_module",
    "fanotify_init",
    "finit_module",
    "fsconfig",
    "fsmount",
    "fsopen",
    "fspick",
    "init_module",
    "io_uring_enter",
    "io_uring_register",
    "io_uring_setup",
    "ioperm",
    "iopl",
    "kcmp",
    "kexec_file_load",
    "kexec_load",
    "keyctl",
    "lookup_dcookie",
    "mount_setattr",
    "move_mount",
    "name_to_handle_at",
    "open_by_handle_at",
    "open_tree",
    "perf_event_open",
    "pidfd_getfd",
    "process_madvise",
    "process_vm_readv",
    "process_vm_writev",
    "ptrace",
    "quotactl",
    "quotactl_fd",
    "reboot",
    "request_key",
    "setdomainname",
    "sethostname",
    "settimeofday",
    "clock_settime",
    "stime",
    "swapoff",
    "swapon",
    "syslog",
    "userfaultfd",
    "vhangup",
}


def profile() -> dict:
    """The profile as the OCI runtime spec's ``LinuxSeccomp``: refuse (EPERM) unless listed."""
    return {
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ARCHITECTURES,
        "syscalls": [
            {"names": sorted(set(RUNTIME_DEFAULT) - LEFT_OUT), "action": "SCMP_ACT_ALLOW"},
            *(
                {
                    "names": ["personality"],
                    "action": "SCMP_ACT_ALLOW",
                    "args": [{"index": 0, "value": value, "op": "SCMP_CMP_EQ"}],
                }
                for value in PERSONALITIES
            ),
            {"names": ARCH_SPECIFIC, "action": "SCMP_ACT_ALLOW"},
            {"names": JAIL, "action": "SCMP_ACT_ALLOW"},
        ],
    }


def render() -> str:
    """The file's text (``python -c 'from aar.k8s.seccomp import *; PATH.write_text(render())'`` rewrites it)."""
    return json.dumps(profile(), indent=2) + "\n"


def allowed(data: dict) -> set[str]:
    """Syscalls a profile allows in some form (unconditionally or for some arguments)."""
    return {name for rule in data["syscalls"] if rule["action"] == "SCMP_ACT_ALLOW" for name in rule["names"]}
