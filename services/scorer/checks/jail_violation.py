"""``jail_violation``: the method made calls the jail refuses (mounts, namespaces, ptrace, network sockets …).

Decided from the kernel's side only: the seccomp filter hands every refused call to a supervisor
outside the method's process, which counts it (``sandbox.jail``). What the method's own interpreter
reports (audit-hook events) is advisory evidence for admins and never decides this flag: the method
can silence or forge it.
"""

from __future__ import annotations

from services.scorer.checks.registry import Finding, Observed, check
from services.scorer.contract import Flag


@check(Flag.jail_violation, reads={"kernel"}, visible=True, scored_only=False)
def jail_violation(observed: Observed) -> Finding | None:
    return Finding({"refused": dict(observed.refused)}) if observed.refused else None
