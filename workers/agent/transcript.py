"""Append-only JSONL transcripts, one per agent, written by the worker outside the sandbox.

Each line is one typed record (``workers.agent.records``: the record types and their fields), written
and read through the same model. A run that crashed is resumed from its transcript (see
``workers.agent.loop.resume_state``).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from workers.agent.records import RECORD, Record, Unreadable, dump, is_json, parse


class Transcript:
    """Appends records to ``path``; each write is flushed and fsynced before it returns."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 (closed by close())
        self._lock = threading.Lock()
        self.session = 0

    def write(self, type: str, **fields) -> Record:
        """Append one record of ``type`` (its fields checked by its model; ``at`` defaults to now, ``session``
        is the current one) and return it."""
        record = RECORD.validate_python({"type": type, "session": self.session, **fields})
        line = dump(record)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())
        return record

    def close(self) -> None:
        self._file.close()


def read_records(path: Path) -> list[Record]:
    """Every record of a transcript. A torn last line (a crash mid-write) ends the reading; a line of a
    type this version does not know is left out."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = parse(line)
        if isinstance(record, Unreadable):
            if not is_json(line):
                break
            continue
        records.append(record)
    return records
