"""Entry point inside the jail: install audit hooks, then run one saved method job.

``python -m services.scorer.jail_entry JOB_DIR METHOD_FILE AUDIT_FD HIDDEN_PREFIXES_JSON``

The hooks report attempts to open hidden paths, use the network, start processes or read secret-looking
environment variables, as JSON lines on ``AUDIT_FD`` (a pipe the trusted worker reads). The jail itself
is what stops those attempts; the hooks only make them visible. Python audit hooks cannot be removed
from Python code, and anything written before a method closes the pipe has already reached the worker.
"""

from __future__ import annotations

import json
import os
import re
import sys

SECRET_ENV = re.compile(r"(DATABASE|REDIS|TOKEN|SECRET|PASSWORD|API_KEY|CREDENTIAL|AWS_|ANTHROPIC)", re.I)
SUSPECT_NAMES = ("rotten_tomatoes", "aggregatedCorpus", "scorer.db", "/environ", "admin-token", ".pgpass")


def _install(audit_fd: int, hidden: list[str]) -> None:
    out = os.fdopen(audit_fd, "w", buffering=1)
    reporting = False

    def report(kind: str, **detail) -> None:
        nonlocal reporting
        if reporting:
            return
        reporting = True
        try:
            out.write(json.dumps({"event": kind, **{k: str(v)[:300] for k, v in detail.items()}}) + "\n")
        except (OSError, ValueError):
            pass  # the method closed the pipe; the jail still holds
        finally:
            reporting = False

    def hook(event: str, args: tuple) -> None:
        if event == "open" and args and isinstance(args[0], (str, bytes)):
            path = os.fsdecode(args[0])
            if any(path.startswith(p) for p in hidden) or any(s in path for s in SUSPECT_NAMES):
                report("hidden_path", path=path)
        elif event in ("socket.connect", "socket.bind", "socket.sendto"):
            report("network", call=event, address=args[1] if len(args) > 1 else "")
        elif event == "socket.getaddrinfo":
            report("network", call=event, address=args[0] if args else "")
        elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn"):
            report("process", call=event, command=args[1] if len(args) > 1 else args[0] if args else "")

    class WatchedEnviron(type(os.environ)):
        def __getitem__(self, key):
            if isinstance(key, str) and SECRET_ENV.search(key):
                report("env_probe", name=key)
            return super().__getitem__(key)

    environ = os.environ
    environ.__class__ = WatchedEnviron
    sys.addaudithook(hook)


def main(argv: list[str]) -> int:
    job_dir, method, audit_fd, hidden = argv[0], argv[1], int(argv[2]), json.loads(argv[3])
    _install(audit_fd, hidden)
    from w2s.jobs import main as run_job

    return run_job([job_dir, method, "cpu"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
