"""The pieces of an agent's evidence that the detectors read, each with where it came from.

A ``Unit`` is one text: a submitted source, a command or program the agent ran (``bash``, ``python``), a
file it wrote, a path a tool call named, a code file of its workspace, or a forum post or comment. Code the
agent submitted is judged strictly (``strict``: it ran in the scorer's jail); everything else is the agent
at work in its own sandbox. A text seen twice (a method written, then submitted) is kept once, at its
strictest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from workers.agent.inspector.evidence import NOTES, AgentEvidence

Kind = Literal["submission", "command", "file", "workspace", "post", "path"]

PATH_ARGS = {
    "read_file": "path",
    "list_files": "path",
    "forum_upload": "path",
    "forum_download": "dest",
    "scorer_submit_method": "path",
    "scorer_submit_predictions": "path",
    "scorer_task_inputs": "dest",
}


@dataclass(frozen=True)
class Unit:
    kind: Kind
    where: str
    text: str
    python: bool = False

    @property
    def strict(self) -> bool:
        return self.kind == "submission"

    @property
    def is_method(self) -> bool:
        """Python that defines ``run(ctx)``: a method, submitted or not."""
        return self.python and "def run(" in self.text


def code_units(evidence: AgentEvidence) -> list[Unit]:
    """Every code-like unit: submissions first, then tool calls, then workspace code files (deduplicated)."""
    units = [Unit("submission", f"submission {s.id}", s.source, True) for s in evidence.submissions]
    for n, record in enumerate(evidence.records):
        if record.get("type") != "tool_call":
            continue
        units += _tool_units(f"call {n} {record.get('name')}", str(record.get("name")), record.get("input") or {})
    for path, text in sorted(evidence.workspace.items()):
        if path == NOTES:
            continue
        if path.endswith((".py", ".pyi")):
            units.append(Unit("workspace", f"workspace {path}", text, True))
        elif path.endswith((".sh", ".bash")):
            units.append(Unit("workspace", f"workspace {path}", text, False))
        elif path.endswith(".ipynb"):
            units += [Unit("workspace", f"workspace {path} cell {i}", c, True) for i, c in enumerate(_cells(text))]
    seen: set[tuple[bool, str]] = set()
    kept = []
    for unit in units:
        key = (unit.python, unit.text.strip())
        if unit.kind != "path" and key in seen:
            continue
        seen.add(key)
        kept.append(unit)
    return kept


def post_units(evidence: AgentEvidence) -> list[Unit]:
    """Every forum post and comment the agent wrote: from the forum, and from its tool calls."""
    units = [Unit("post", f"post {p.id} ({p.kind})", f"{p.title}\n{p.body}") for p in evidence.posts]
    for n, record in enumerate(evidence.records):
        data = record.get("input") or {}
        if record.get("type") == "tool_call" and record.get("name") in ("forum_post", "forum_comment"):
            text = f"{data.get('title', '')}\n{data.get('body', '')}".strip()
            units.append(Unit("post", f"call {n} {record.get('name')}", text))
    seen: set[str] = set()
    kept = []
    for unit in units:
        if unit.text.strip() not in seen:
            seen.add(unit.text.strip())
            kept.append(unit)
    return kept


def _tool_units(where: str, name: str, data: dict[str, Any]) -> list[Unit]:
    if name == "bash":
        return [Unit("command", where, str(data.get("command", "")))]
    if name == "python":
        return [Unit("command", where, str(data.get("code", "")), True)]
    if name in ("write_file", "edit_file"):
        path = str(data.get("path", ""))
        text = str(data.get("content" if name == "write_file" else "new", ""))
        units = [Unit("path", where, path)]
        if path.endswith((".py", ".sh")):  # code; notes, data and markdown are not read as code
            units.append(Unit("file", f"{where} {path}"[:120], text, path.endswith(".py")))
        return units
    if name in PATH_ARGS:
        return [Unit("path", where, str(data.get(PATH_ARGS[name], "")))]
    return []


def _cells(notebook: str) -> list[str]:
    try:
        cells = json.loads(notebook).get("cells", [])
    except (ValueError, AttributeError):
        return []
    out = []
    for cell in cells if isinstance(cells, list) else []:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            text = "".join(source) if isinstance(source, list) else str(source)
            out.append("\n".join(line for line in text.splitlines() if not line.lstrip().startswith(("%", "!"))))
    return out
