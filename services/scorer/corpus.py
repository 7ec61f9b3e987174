"""The red-team corpus's case format, and findings exported into it.

A case is ``<name>.py`` (a method source, with placeholders the replay harness may fill in) and
``<name>.json`` (``CaseMeta``). Hand-written attacks and hackers' findings share the format, so CI replays
one corpus (``tests/services/scorer/redteam``). A finding is exported ``open``: the scorer let it through
when it was found, and CI asserts that it still does until the fix lands; the fix flips ``open`` to false,
and from then on CI asserts that the attack is blocked or flagged (docs/scorer.md, "From a finding to a fix").
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from services.scorer.contract import Attack

Success = Literal["finished", "found", "scored", "unflagged"]
NAME = re.compile(r"^[a-z0-9_]{1,80}$")


class CaseMeta(BaseModel):
    """What a case is and what the scorer must do with it.

    ``success`` says when the attack won: ``finished`` (an escape that finishes only when it found
    something), ``found`` (a cross-run channel: a run failing with "found: …"), ``scored`` (a cheat reaching
    the ladder) or ``unflagged`` (a hacker's finding: scored with no flag, admin-only flags included)."""

    task: str
    success: Success
    flags: list[str] = Field([], description="flags the scorer must raise")
    description: str
    origin: str
    fill: list[str] = Field([], description="placeholders the harness fills: LABELS, REFERENCE")
    blocked_error: str | None = None
    open: bool = Field(False, description="a finding not fixed yet: CI expects it to get through still")
    found_pgr: dict[str, float | None] = Field({}, description="the scores when it was found (admins' numbers)")


def read_meta(folder: Path, name: str) -> CaseMeta:
    return CaseMeta.model_validate_json((folder / f"{name}.json").read_text())


def case_name(campaign: str, attack: Attack) -> str:
    """A safe file name from ids the scorer made (never from the hacker's text)."""
    name = re.sub(r"[^a-z0-9_]", "_", f"finding_{campaign}_{attack.submission_id[:12]}".lower())
    if not NAME.match(name):
        raise ValueError(f"unusable case name {name!r}")
    return name


def export_finding(folder: Path, campaign: str, attack: Attack) -> str:
    """Write an unflagged attack as an open case of the corpus in ``folder``; returns the case's name. An
    existing case of the same name is left as it is (a fix may have closed it)."""
    if attack.verdict != "unflagged":
        raise ValueError(f"attack {attack.submission_id} is {attack.verdict}: only unflagged attacks are findings")
    name = case_name(campaign, attack)
    if (folder / f"{name}.json").exists():
        return name
    meta = CaseMeta(
        task=attack.task,
        success="unflagged",
        description=" ".join(attack.description.split())[:500] or "(the hacker gave no description)",
        origin=f"campaign {campaign}, hacker {attack.agent}, submission {attack.submission_id}",
        open=True,
        found_pgr={"test_public": attack.public_pgr, "test_private": attack.private_pgr},
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(attack.source)
    (folder / f"{name}.json").write_text(json.dumps(meta.model_dump(exclude_defaults=False), indent=2) + "\n")
    return name
