"""Unpacking untrusted tar archives (a sandbox's folder, a saved workspace) on the host.

Each member goes through tarfile's ``data`` filter (no absolute paths, no links out of the folder, no
devices, no setuid bits); a member it rejects is skipped and reported, so one absolute symlink in a
virtualenv does not lose the whole archive.
"""

from __future__ import annotations

import tarfile
from pathlib import Path


def extract(tar: tarfile.TarFile, dest: Path) -> list[str]:
    """Unpack ``tar`` into ``dest`` (created); returns ``"<member>: <why>"`` for each member skipped."""
    skipped: list[str] = []

    def data_or_skip(member: tarfile.TarInfo, path: str) -> tarfile.TarInfo | None:
        try:
            return tarfile.data_filter(member, path)
        except tarfile.FilterError as exc:
            skipped.append(f"{member.name}: {exc}")
            return None

    dest.mkdir(parents=True, exist_ok=True)
    tar.extractall(dest, filter=data_or_skip)
    return skipped
