"""A sandbox's bookkeeping file (``state.json`` in its host folder): what to release on stop or sweep.

Providers write it before they create each resource, so a sweep after a crash finds everything.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def load_state(folder: Path) -> dict[str, Any]:
    """The folder's state, or ``{}`` when there is none (or it is unreadable)."""
    try:
        state: dict[str, Any] = json.loads((folder / "state.json").read_text())
        return state
    except (OSError, ValueError):
        return {}


def save_state(folder: Path, state: dict[str, Any]) -> None:
    """Replace the state atomically."""
    tmp = folder / "state.json.tmp"
    tmp.write_text(json.dumps(state))
    tmp.replace(folder / "state.json")


def live(root: Path, label: str) -> list[Path]:
    """Folders of run ``label`` under ``root`` whose sandbox was not stopped."""
    return [p.parent for p in sorted((root / label).glob("*/state.json")) if not load_state(p.parent).get("stopped")]
