"""Host paths that untrusted code must never see: ``AAR_HOME``, the caller's hidden paths (label data),
databases and secrets.

The bubblewrap provider puts an empty tmpfs over each of these.
"""

from __future__ import annotations

import os
from pathlib import Path

# Database state, sockets and configuration of the services on a dev or CI machine.
SYSTEM_SECRETS = (
    "/run",
    "/var/run",
    "/var/lib/postgresql",
    "/var/lib/redis",
    "/var/lib/mysql",
    "/var/lib/rabbitmq",
    "/etc/postgresql",
    "/etc/redis",
    "/etc/mysql",
    "/etc/rabbitmq",
    "/etc/ssh",
)


def hidden_paths(home: Path, *extra: Path | str) -> list[str]:
    """``AAR_HOME`` (caches with baselines, databases, the admin token), ``extra`` (the caller's: label data
    folders, the sandboxes' root) and the system secrets that exist here; real folders only (symlinks are
    hidden through their target).
    """
    paths = {str(home.expanduser().resolve())}
    paths |= {str(Path(p).resolve()) for p in extra}
    paths |= {p for p in SYSTEM_SECRETS if os.path.isdir(p) and not os.path.islink(p)}
    return sorted(paths)
