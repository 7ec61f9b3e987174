"""Untrusted tar archives (a sandbox's folder, a saved workspace): bounded before and while they are unpacked.

``Bounds`` caps what an archive may unpack to: bytes (a sparse member counts at its full size), members, and
the ratio of unpacked to archived bytes (checked once ``RATIO_FLOOR`` bytes are unpacked, so small archives of
text are never refused for compressing well). ``scan`` reads an archive as a stream, writing nothing, in flat
memory, and raises ``SizeLimitError`` at the first bound passed. ``extract`` unpacks on the host, checking the
same bounds before each member is written; each member also goes through tarfile's ``data`` filter (no
absolute paths, no links out of the folder, no devices, no setuid bits), and a member the filter rejects is
skipped and reported, so one absolute symlink in a virtualenv does not lose the whole archive.
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sandbox.errors import SizeLimitError

RATIO_FLOOR = 64 << 20


@dataclass(frozen=True)
class Bounds:
    """The most an archive may unpack to."""

    max_bytes: int
    max_members: int
    max_ratio: float


@dataclass
class Tally:
    """What an archive unpacked to so far, checked against ``bounds`` member by member."""

    bounds: Bounds
    members: int = 0
    unpacked: int = 0
    end: int = 0  # where the archive's last member ends in its uncompressed stream

    def add(self, member: tarfile.TarInfo) -> None:
        """Count ``member``, before any of it is unpacked."""
        self.members += 1
        self.unpacked += member.size if member.isfile() else 0
        b = self.bounds
        if self.members > b.max_members:
            raise SizeLimitError(f"the archive unpacks to more than {b.max_members} members", b.max_members)
        if self.unpacked > b.max_bytes:
            raise SizeLimitError(f"the archive unpacks to more than {b.max_bytes} bytes", b.max_bytes)

    def check_ratio(self, archived: int) -> None:
        """Check what was counted so far against the ``archived`` bytes that hold it."""
        ratio = self.unpacked / max(archived, 1)
        if self.unpacked > RATIO_FLOOR and ratio > self.bounds.max_ratio:
            limit = self.bounds.max_ratio
            raise SizeLimitError(f"the archive unpacks to {ratio:.0f} times its size (at most {limit:g})", int(limit))


class _Counted:
    """A binary file that counts the bytes read from it."""

    def __init__(self, raw: IO[bytes]):
        self.raw, self.count = raw, 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.count += len(data)
        return data


def scan(archive: IO[bytes], bounds: Bounds) -> Tally:
    """Read ``archive`` (a tar, plain or compressed) to its end without unpacking it; ``SizeLimitError`` at the
    first bound passed, ``tarfile.TarError`` when it is not a readable archive. The ratio is checked at each
    member's header for the members before it (whose bytes have all been read by then), and at the end."""
    source = _Counted(archive)
    tally = Tally(bounds)
    with tarfile.open(fileobj=source, mode="r|*") as tar:  # type: ignore[call-overload]
        for member in tar:
            tally.check_ratio(source.count)
            tally.add(member)
        tally.check_ratio(source.count)
        tally.end = tar.offset
    return tally


def extract(archive: IO[bytes], dest: Path, bounds: Bounds) -> list[str]:
    """Unpack the seekable, uncompressed tar ``archive`` into ``dest`` (created) within ``bounds``; returns
    ``"<member>: <why>"`` for each member skipped. ``SizeLimitError`` at the first bound passed, before that
    member is written (those before it stay unpacked)."""
    skipped: list[str] = []
    dest.mkdir(parents=True, exist_ok=True)
    tally = Tally(bounds)
    with tarfile.open(fileobj=archive, mode="r:") as tar:
        while (member := tar.next()) is not None:
            tally.add(member)
            tally.check_ratio(tar.offset)  # the archive up to this member's end: only sparse members exceed 1
            try:
                safe = tarfile.data_filter(member, str(dest))
            except tarfile.FilterError as exc:
                skipped.append(f"{member.name}: {exc}")
                continue
            tar.extract(safe, dest, set_attrs=not safe.isdir(), filter="fully_trusted")
    return skipped
