"""Reading live transcripts cheaply: an index of line offsets that grows with the append-only file, pages
newest first, and each agent's spend from its latest running ``totals`` (see workers/agent/transcript.py)."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from services.dashboard.contract import AgentSpend

BLOCK = 1 << 20


class LineIndex:
    """Start offsets of the complete lines of an append-only file; ``refresh`` indexes only what is new, and a
    torn last line (no newline yet) waits until it is complete."""

    def __init__(self, path: Path):
        self.path = path
        self.starts: list[int] = []
        self.end = 0  # the offset just after the last complete line
        self._lock = threading.Lock()

    def refresh(self) -> int:
        """Index what was appended since the last call; returns the number of complete lines."""
        with self._lock:
            size = self.path.stat().st_size if self.path.exists() else 0
            if size < self.end:  # replaced or truncated: start over
                self.starts, self.end = [], 0
            if size > self.end:
                with open(self.path, "rb") as f:
                    f.seek(self.end)
                    offset = self.end
                    while offset < size and (block := f.read(min(BLOCK, size - offset))):
                        start = 0
                        while (newline := block.find(b"\n", start)) != -1:
                            self.starts.append(self.end)
                            self.end = offset + newline + 1
                            start = newline + 1
                        offset += len(block)
            return len(self.starts)

    def records(self, first: int, last: int) -> list[dict]:
        """Lines ``first`` to ``last - 1`` (already indexed), parsed; an unreadable line becomes a stub record."""
        if first >= last:
            return []
        with self._lock:
            begin = self.starts[first]
            stop = self.starts[last] if last < len(self.starts) else self.end
        with open(self.path, "rb") as f:
            f.seek(begin)
            lines = f.read(stop - begin).split(b"\n")[: last - first]
        return [_parse(line) for line in lines]


def _parse(line: bytes) -> dict:
    try:
        record = json.loads(line)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        return {"type": "unreadable", "raw": line[:500].decode("utf-8", "replace")}
    return record


class Transcripts:
    """One ``LineIndex`` per transcript file, kept for the dashboard's life."""

    def __init__(self):
        self._indexes: dict[Path, LineIndex] = {}
        self._lock = threading.Lock()

    def index(self, path: Path) -> LineIndex:
        with self._lock:
            return self._indexes.setdefault(path, LineIndex(path))

    def page(self, path: Path, before: int | None, limit: int) -> tuple[int, list[tuple[int, dict]], int | None]:
        """``(total, [(index, record)] newest first, next_before)`` for the ``limit`` records before ``before``
        (line numbers stay put as the file grows, so older pages are stable)."""
        index = self.index(path)
        total = index.refresh()
        last = total if before is None else min(before, total)
        first = max(0, last - limit)
        records = index.records(first, last)
        return total, list(reversed(list(enumerate(records, start=first)))), first or None

    def spend(self, path: Path, agent: str) -> AgentSpend:
        """The agent's latest running totals, wall time since its first start, and whether it has ended."""
        index = self.index(path)
        total = index.refresh()
        head = index.records(0, min(total, 20))
        tail = index.records(max(0, total - 50), total)
        totals: dict[str, Any] = next((r["totals"] for r in reversed(tail) if isinstance(r.get("totals"), dict)), {})
        started = next((r["at"] for r in head if r.get("type") == "agent_start"), None)
        last = tail[-1] if tail else {}
        wall_s = _seconds(started, last.get("at")) if started else 0.0
        tokens = {k: int(v) for k, v in (totals.get("tokens") or {}).items()}
        cost = float(totals.get("cost_usd", 0.0))
        return AgentSpend(
            agent=agent,
            status=str(last.get("reason")) if last.get("type") == "agent_end" else ("running" if total else "waiting"),
            cost_usd=cost,
            tokens=sum(tokens.values()),
            token_breakdown=tokens,
            model_calls=int(totals.get("model_calls", 0)),
            tool_calls=int(totals.get("tool_calls", 0)),
            wall_h=wall_s / 3600,
            working_h=float(totals.get("working_s", 0.0)) / 3600,
            usd_per_agent_hour=cost / (wall_s / 3600) if wall_s >= 1 else None,
        )


def _seconds(start: str, end: str | None) -> float:
    if end is None:
        return 0.0
    try:
        return max(0.0, (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())
    except (TypeError, ValueError):
        return 0.0
