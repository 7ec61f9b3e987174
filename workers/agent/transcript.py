"""Append-only JSONL transcripts, one per agent, written by the worker outside the sandbox.

Each line is one record with ``type``, ``at`` (UTC ISO time) and ``session``. Record types:

- ``agent_start``: name, direction, backend, model (once per run or resume);
- ``session_start`` / ``session_end``: a fresh context (with the reason the last one ended);
- ``user``: a message the worker sent (the first prompt, a continuation nudge);
- ``model_call``: the assistant content, stop reason, usage, cost, request id, latency;
- ``api_error``: a failed HTTP attempt the SDK retried (status, retry-after);
- ``tool_call`` / ``tool_result``: what the model asked for and what it got back;
- ``agent_end``: the reason the run ended, and the final usage (the final record).

A run that crashed is resumed from its transcript (see ``workers.agent.loop.resume_state``).
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


class Transcript:
    """Appends records to ``path``; each write is flushed and fsynced before it returns."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 (closed by close())
        self._lock = threading.Lock()
        self.session = 0

    def write(self, type: str, **fields) -> dict:
        """Append one record and return it."""
        record = {"type": type, "at": now_iso(), "session": self.session, **fields}
        line = json.dumps(record, default=str, ensure_ascii=False)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())
        return record

    def close(self) -> None:
        self._file.close()


def read_records(path: Path) -> list[dict]:
    """Every complete record of a transcript; a torn last line (a crash mid-write) is ignored."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return records
