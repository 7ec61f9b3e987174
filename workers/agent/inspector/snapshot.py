"""Reading a workspace snapshot (``.tar.gz``, untrusted) into memory: text files only, nothing on disk.

The archive streams through ``gzip`` and ``tarfile``'s stream mode; a counter between them sees every
decompressed byte (headers, skipped members and padding included, whatever the headers claim) and ends the
reading at ``max_total_bytes``. Only regular files are read (links, devices, FIFOs and folders are skipped),
with a text-file suffix, at most ``max_file_bytes`` each, valid UTF-8 without NUL bytes; names are made
relative and refused when they escape (``..``), carry control characters or are too long. A corrupt or
truncated archive yields what was read before the damage. What was skipped or why the reading stopped is
told under ``NOTES`` (a key no member name can take: names are relative).
"""

from __future__ import annotations

import gzip
import posixpath
import tarfile
import zlib
from pathlib import Path
from typing import IO

NOTES = "/notes"  # the key of the reader's notes in the returned mapping (member names never start with "/")
TEXT_SUFFIXES = frozenset(
    ".py .pyi .md .txt .rst .json .jsonl .sh .bash .csv .tsv .ipynb .yaml .yml .toml .cfg .ini .log .r .sql".split()
)
MAX_NAME_CHARS = 255
MAX_NOTES = 20


class _StreamCapped(Exception):
    """The decompressed stream passed its cap."""


class _Counted:
    """A binary stream that counts what is read from it and refuses to go past ``cap`` bytes."""

    def __init__(self, raw: IO[bytes] | gzip.GzipFile, cap: int):
        self.raw, self.cap, self.count = raw, cap, 0

    def read(self, n: int = -1) -> bytes:
        want = self.cap + 1 - self.count if n is None or n < 0 else min(n, self.cap + 1 - self.count)
        data = self.raw.read(max(want, 0))
        self.count += len(data)
        if self.count > self.cap:
            raise _StreamCapped()
        return data


def member_name(name: str) -> str | None:
    """``name`` as a clean relative path, or ``None`` when it escapes, is empty or is not printable."""
    if len(name) > 4 * MAX_NAME_CHARS or any(ord(c) < 32 or ord(c) == 127 for c in name):
        return None
    path = posixpath.normpath("/" + name.replace("\\", "/")).lstrip("/")
    if name.replace("\\", "/").split("/").count("..") or path in ("", ".") or len(path) > MAX_NAME_CHARS:
        return None
    return path


def is_text_name(path: str) -> bool:
    return posixpath.splitext(path)[1].lower() in TEXT_SUFFIXES or posixpath.basename(path) in ("Makefile", "NOTEBOOK")


def read_workspace(
    snapshot: Path, max_files: int = 2000, max_file_bytes: int = 256 << 10, max_total_bytes: int = 16 << 20
) -> dict[str, str]:
    """The text files of the snapshot ``snapshot`` (relative path → text), read in memory only, within the
    caps; ``NOTES`` says what was skipped and why the reading stopped (if it did)."""
    files: dict[str, str] = {}
    notes: list[str] = []
    skipped: dict[str, int] = {}

    def skip(why: str) -> None:
        skipped[why] = skipped.get(why, 0) + 1

    try:
        with open(snapshot, "rb") as raw:
            stream = _Counted(gzip.GzipFile(fileobj=raw, mode="rb"), max_total_bytes)
            with tarfile.open(fileobj=stream, mode="r|") as tar:  # type: ignore[call-overload]
                for member in tar:
                    if len(files) >= max_files:
                        notes.append(f"stopped after {max_files} files")
                        break
                    if not member.isreg():
                        skip("not a regular file" if not member.isdir() else "folder")
                        continue
                    name = member_name(member.name)
                    if name is None:
                        skip("unsafe name")
                    elif not is_text_name(name):
                        skip("not a text file")
                    elif member.size > max_file_bytes:
                        skip(f"over {max_file_bytes} bytes")
                    else:
                        handle = tar.extractfile(member)
                        data = handle.read(max_file_bytes + 1) if handle is not None else b""
                        text = _text(data, max_file_bytes)
                        if text is None:
                            skip("binary or over the size cap")
                        else:
                            files[name] = text
    except _StreamCapped:
        notes.append(f"stopped at {max_total_bytes} decompressed bytes")
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:  # gzip.BadGzipFile is an OSError
        notes.append(f"unreadable past this point: {type(exc).__name__}: {str(exc)[:120]}")
    notes += [f"skipped {n}: {why}" for why, n in sorted(skipped.items())]
    if notes:
        files[NOTES] = "\n".join(notes[:MAX_NOTES])
    return files


def _text(data: bytes, max_bytes: int) -> str | None:
    if len(data) > max_bytes or b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
