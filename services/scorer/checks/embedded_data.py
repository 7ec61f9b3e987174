"""``embedded_data``: a method source that carries data (``services.scorer.source_audit``, run at intake).

The audit reads the source only, so the agent may see the flag; the measures are the admins' evidence.
"""

from __future__ import annotations

from services.scorer.checks.registry import Finding, Observed, check
from services.scorer.contract import Flag


@check(Flag.embedded_data, reads={"source"}, visible=True, scored_only=False)
def embedded_data(observed: Observed) -> Finding | None:
    audit = observed.source_audit
    if not audit or not audit.get("findings"):
        return None
    return Finding(dict(audit))
