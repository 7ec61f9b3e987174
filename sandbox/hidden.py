"""Host paths that untrusted code must never see: engine state, labelled data, databases and secrets.

The scorer's method jail and the bubblewrap provider both put an empty tmpfs over each of these.
"""

from __future__ import annotations

import os
from pathlib import Path

from w2s.datasets import label_data_paths

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


def hidden_paths(home: Path, *extra: Path) -> list[str]:
    """``AAR_HOME`` (caches with baselines, databases, the admin token), label data folders, system
    secrets that exist here, and ``extra``; real folders only (symlinks are hidden through their target).
    """
    paths = {str(home.expanduser().resolve()), *(str(p) for p in label_data_paths())}
    paths |= {str(Path(p).resolve()) for p in extra}
    paths |= {p for p in SYSTEM_SECRETS if os.path.isdir(p) and not os.path.islink(p)}
    return sorted(paths)
