"""``private_beyond_ceiling`` (admins only): test_private accuracy above the strong ceiling.

It reads private labels, so no agent may see it or be affected by it (the ladder neither): it is
evidence for the admins who finalise the task.
"""

from __future__ import annotations

from services.scorer.checks.beyond_ceiling import above_ceiling
from services.scorer.checks.registry import Finding, Observed, check
from services.scorer.contract import Flag


@check(Flag.private_beyond_ceiling, reads={"test_private"}, visible=False)
def private_beyond_ceiling(observed: Observed) -> Finding | None:
    assert observed.report is not None  # scored_only
    split = observed.report.splits.get("test_private")
    found = above_ceiling(split, observed.settings.ceiling_margin) if split is not None else None
    return Finding({"split": "test_private", **found}) if found else None
