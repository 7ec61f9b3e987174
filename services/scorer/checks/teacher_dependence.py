"""``teacher_independent``: a run whose predictions do not follow its teacher.

Every run has its own teacher, drawn from the scorer's secret pool, and counts alike (there is no
control run to pick out). ``w2s.scoring.teacher_dependence`` correlates, per run, how the method's
predictions move away from its other runs with how a reference student trained on each teacher moves:
no label is read, so the flag can be shown. A method that ignores its teacher in any run, whatever
it knows, scores about 0 there; the built-ins score 0.6–1.0.
"""

from __future__ import annotations

from services.scorer.checks.registry import Finding, Observed, check
from services.scorer.contract import Flag


@check(Flag.teacher_independent, reads={"predictions", "references"}, visible=True)
def teacher_independent(observed: Observed) -> Finding | None:
    report, threshold = observed.report, observed.settings.min_teacher_dependence
    if report is None or not report.dependence:
        return None
    lowest = min(report.dependence)
    if lowest >= threshold:
        return None
    per_run = [round(v, 4) for v in report.dependence]
    return Finding({"teacher_dependence": per_run, "lowest": round(lowest, 4), "threshold": threshold})
