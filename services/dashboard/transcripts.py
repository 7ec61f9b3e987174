"""Reading live transcripts cheaply: an index of line offsets that grows with the append-only file, pages
newest first, and each agent's spend from its latest running ``totals``. Lines are read with the records'
own models (``workers.agent.records``); a line that is no record reads as ``Unreadable``."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

from services.dashboard.contract import AgentSpend
from workers.agent.budget import Usage
from workers.agent.records import AgentEnd, AgentStart, ModelCall, Record, ToolResult, Unreadable, parse

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

    def records(self, first: int, last: int) -> list[Record | Unreadable]:
        """Lines ``first`` to ``last - 1`` (already indexed), parsed; an unreadable line becomes ``Unreadable``."""
        if first >= last:
            return []
        with self._lock:
            begin = self.starts[first]
            stop = self.starts[last] if last < len(self.starts) else self.end
        with open(self.path, "rb") as f:
            f.seek(begin)
            lines = f.read(stop - begin).split(b"\n")[: last - first]
        return [parse(line) for line in lines]


class Transcripts:
    """One ``LineIndex`` per transcript file, kept for the dashboard's life."""

    def __init__(self):
        self._indexes: dict[Path, LineIndex] = {}
        self._lock = threading.Lock()

    def index(self, path: Path) -> LineIndex:
        with self._lock:
            return self._indexes.setdefault(path, LineIndex(path))

    def page(self, path: Path, before: int | None, limit: int) -> tuple[int, list[tuple[int, dict]], int | None]:
        """``(total, [(index, record as JSON)] newest first, next_before)`` for the ``limit`` records before
        ``before`` (line numbers stay put as the file grows, so older pages are stable)."""
        index = self.index(path)
        total = index.refresh()
        last = total if before is None else min(before, total)
        first = max(0, last - limit)
        records = [r.model_dump(mode="json", exclude_none=True) for r in index.records(first, last)]
        return total, list(reversed(list(enumerate(records, start=first)))), first or None

    def spend(self, path: Path, agent: str) -> AgentSpend:
        """The agent's latest running totals, wall time since its first start, and whether it has ended."""
        index = self.index(path)
        total = index.refresh()
        head = index.records(0, min(total, 20))
        tail = index.records(max(0, total - 50), total)
        with_totals = (r for r in reversed(tail) if isinstance(r, ModelCall | ToolResult | AgentEnd))
        totals = next((r.totals for r in with_totals if r.totals is not None), Usage())
        started = next((r.at for r in head if isinstance(r, AgentStart)), None)
        last = next((r for r in reversed(tail) if not isinstance(r, Unreadable)), None)
        wall_s = _seconds(started, last.at) if started and last else 0.0
        tokens = totals.tokens.model_dump()
        return AgentSpend(
            agent=agent,
            status=last.reason if isinstance(last, AgentEnd) else ("running" if total else "waiting"),
            cost_usd=totals.cost_usd,
            tokens=sum(tokens.values()),
            token_breakdown=tokens,
            model_calls=totals.model_calls,
            tool_calls=totals.tool_calls,
            wall_h=wall_s / 3600,
            working_h=totals.working_s / 3600,
            usd_per_agent_hour=totals.cost_usd / (wall_s / 3600) if wall_s >= 1 else None,
        )


def _seconds(start: datetime, end: datetime) -> float:
    try:
        return max(0.0, (end - start).total_seconds())
    except TypeError:  # one naive, one aware
        return 0.0
