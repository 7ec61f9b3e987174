"""Workspace snapshots: a tar.gz whose first member is ``MANIFEST.json``, the list of its files with
sizes and sha256. The CLI builds one from a folder; the server checks it on upload (safe paths, regular
files only, every file as the manifest says); ``extract`` unpacks one with tarfile's ``data`` filter.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import time
from pathlib import Path, PurePosixPath
from typing import IO, Any

MANIFEST = "MANIFEST.json"
MAX_FILES = 20_000
MAX_MANIFEST_BYTES = 16 * 2**20
MAX_UNPACKED_BYTES = 2**30  # what the files of one snapshot may add up to, however well they compress


class SnapshotError(ValueError):
    """Not a valid workspace snapshot (the message says why)."""


def _sha256_stream(stream) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()


def sha256_file(path: Path, deadline: float | None = None) -> str:
    """The sha256 of a file, read in 1 MiB chunks (``TimeoutError`` past ``deadline``, a monotonic time)."""
    with open(path, "rb") as f:
        return _sha256_stream(_Timed(f, deadline))


class _Timed:
    """A binary file whose reads raise ``TimeoutError`` once ``deadline`` (``time.monotonic()``) has passed."""

    def __init__(self, raw: IO[bytes], deadline: float | None):
        self.raw, self.deadline = raw, deadline

    def read(self, n: int = -1) -> bytes:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise TimeoutError("the snapshot ran out of time")
        return self.raw.read(n)


def make(workspace: Path, out: Path, deadline: float | None = None) -> list[dict]:
    """Write a snapshot of the regular files under ``workspace`` (links and special files are left out)
    to ``out``; returns the manifest.

    The sizes are added up first: more than ``MAX_FILES`` files or ``MAX_UNPACKED_BYTES`` (every hard link
    counts in full, as the snapshot holds each as a file) raise ``SnapshotError`` before anything is read.
    Each inode is hashed once, and past ``deadline`` (``time.monotonic()``) it raises ``TimeoutError``."""
    files = sorted(p for p in workspace.rglob("*") if p.is_file() and not p.is_symlink())
    if len(files) > MAX_FILES:
        raise SnapshotError(f"{workspace} has {len(files)} files; a snapshot holds at most {MAX_FILES}")
    stats = [p.stat() for p in files]
    total = sum(st.st_size for st in stats)
    if total > MAX_UNPACKED_BYTES:
        raise SnapshotError(
            f"{workspace} holds {total} bytes in files (each hard link counted in full); a snapshot holds at "
            f"most {MAX_UNPACKED_BYTES}"
        )
    hashes: dict[tuple[int, int], str] = {}
    manifest: list[dict[str, Any]] = []
    for p, st in zip(files, stats, strict=True):
        inode = (st.st_dev, st.st_ino)
        if inode not in hashes:
            hashes[inode] = sha256_file(p, deadline)
        manifest.append({"path": p.relative_to(workspace).as_posix(), "size": st.st_size, "sha256": hashes[inode]})
    data = json.dumps(manifest, indent=1).encode()
    with tarfile.open(out, "w:gz") as tar:
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        for p, st, entry in zip(files, stats, manifest, strict=True):
            member = tarfile.TarInfo(entry["path"])  # a regular file, hard link or not
            member.size, member.mode, member.mtime = st.st_size, st.st_mode & 0o755, int(st.st_mtime)
            with open(p, "rb") as f:
                tar.addfile(member, _Timed(f, deadline))
    return manifest


def _safe(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts and "\\" not in name


def check(path: Path) -> list[dict]:
    """The manifest of the snapshot at ``path``, after checking every member against it."""
    try:
        with tarfile.open(path, "r:gz") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST or not first.isfile():
                raise SnapshotError(f"the first member of a snapshot must be {MANIFEST}")
            if first.size > MAX_MANIFEST_BYTES:
                raise SnapshotError(f"{MANIFEST} is larger than {MAX_MANIFEST_BYTES} bytes")
            manifest_file = tar.extractfile(first)
            if manifest_file is None:  # not reached: ``first`` is a regular file
                raise SnapshotError(f"the first member of a snapshot must be {MANIFEST}")
            manifest = _parse_manifest(manifest_file.read())
            expected = {e["path"]: e for e in manifest}
            seen: set[str] = set()
            unpacked = 0
            while (member := tar.next()) is not None:
                if len(seen) >= MAX_FILES:
                    raise SnapshotError(f"a snapshot holds at most {MAX_FILES} files")
                if member.isdir():
                    continue
                if not member.isfile() or not _safe(member.name):
                    raise SnapshotError(f"member {member.name!r} is not a regular file at a relative path")
                entry = expected.get(member.name)
                if entry is None or member.name in seen:
                    raise SnapshotError(f"member {member.name!r} is not listed once in {MANIFEST}")
                unpacked += member.size
                if unpacked > MAX_UNPACKED_BYTES:
                    raise SnapshotError(f"a snapshot unpacks to at most {MAX_UNPACKED_BYTES} bytes")
                if member.size != entry["size"] or _sha256_stream(tar.extractfile(member)) != entry["sha256"]:
                    raise SnapshotError(f"member {member.name!r} does not match its manifest entry")
                seen.add(member.name)
    except (tarfile.TarError, OSError, EOFError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"not a readable tar.gz: {exc}") from None
    missing = set(expected) - seen
    if missing:
        raise SnapshotError(f"{len(missing)} file(s) of the manifest are missing, e.g. {sorted(missing)[0]!r}")
    return manifest


def _parse_manifest(raw: bytes) -> list[dict]:
    try:
        manifest = json.loads(raw)
    except ValueError:
        raise SnapshotError(f"{MANIFEST} is not JSON") from None
    if not isinstance(manifest, list) or len(manifest) > MAX_FILES:
        raise SnapshotError(f"{MANIFEST} must be a list of at most {MAX_FILES} entries")
    for entry in manifest:
        ok = (
            isinstance(entry, dict)
            and set(entry) == {"path", "size", "sha256"}
            and isinstance(entry["path"], str)
            and _safe(entry["path"])
            and isinstance(entry["size"], int)
            and entry["size"] >= 0
            and isinstance(entry["sha256"], str)
            and len(entry["sha256"]) == 64
        )
        if not ok:
            raise SnapshotError(f"bad {MANIFEST} entry: {str(entry)[:200]}")
    return manifest


def extract(path: Path, dest: Path) -> list[dict]:
    """Check the snapshot, then unpack its files (not the manifest) under ``dest``; returns the manifest."""
    manifest = check(path)
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "r:gz") as tar:
        members = [m for m in tar.getmembers() if m.name != MANIFEST]
        tar.extractall(dest, members=members, filter="data")
    return manifest
