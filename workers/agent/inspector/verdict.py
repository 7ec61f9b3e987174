"""The inspection of one agent: the detectors' findings, a verdict (FAIL if any finding fails, SUSPICIOUS if
any is suspicious, else PASS), bounded evidence lines, and optionally a judge's opinion, which can only make
the verdict stricter."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, Field

from workers.agent.inspector.detectors import Finding, run_detectors
from workers.agent.inspector.evidence import NOTES, AgentEvidence

Verdict = Literal["PASS", "SUSPICIOUS", "FAIL"]
ORDER: dict[str, int] = {"PASS": 0, "SUSPICIOUS": 1, "FAIL": 2}
MAX_EVIDENCE = 50


class JudgeOpinion(BaseModel):
    """What a judge model said: ``ok`` with its verdict and reasons, ``unreadable`` (no verdict could be read
    from its reply) or ``unavailable`` (it could not be asked)."""

    status: Literal["ok", "unreadable", "unavailable"]
    verdict: Verdict | None = None
    reasons: list[str] = Field(default_factory=list)
    model: str | None = None
    raw: str = ""


class Inspection(BaseModel):
    agent: str
    role: str
    verdict: Verdict
    evidence: list[str]
    findings: list[Finding]
    judge: JudgeOpinion | None = None


Judge = Callable[[Inspection, AgentEvidence], JudgeOpinion]


def rule_verdict(findings: list[Finding]) -> Verdict:
    if any(f.severity == "fail" for f in findings):
        return "FAIL"
    return "SUSPICIOUS" if findings else "PASS"


def stricter(a: Verdict, b: Verdict | None) -> Verdict:
    return a if b is None or ORDER[a] >= ORDER[b] else b


def summary(evidence: AgentEvidence, findings: list[Finding]) -> str:
    calls = Counter(str(r.get("name")) for r in evidence.records if r.get("type") == "tool_call")
    top = ", ".join(f"{name} {n}" for name, n in calls.most_common(4))
    files = len([p for p in evidence.workspace if p != NOTES])
    return (
        f"{len(evidence.submissions)} sources read, {len(findings)} findings; {sum(calls.values())} tool calls"
        + (f" ({top})" if top else "")
        + f"; {files} workspace files; {len(evidence.posts)} posts"
    )


def evidence_lines(evidence: AgentEvidence, findings: list[Finding], limit: int = MAX_EVIDENCE) -> list[str]:
    """The summary line, the reader's notes on the workspace, then one line per finding (fail first)."""
    lines = [summary(evidence, findings)]
    if NOTES in evidence.workspace:
        lines += [f"workspace: {note}" for note in evidence.workspace[NOTES].splitlines()[:3]]
    room = limit - len(lines)
    shown = findings[: room - 1] if len(findings) > room else findings
    lines += [f"{f.severity.upper()} [{f.detector}] {f.where}: {f.line}" for f in shown]
    if len(shown) < len(findings):
        lines.append(f"… {len(findings) - len(shown)} more findings")
    return lines


def inspect(evidence: AgentEvidence, judge: Judge | None = None) -> Inspection:
    """Run every detector on ``evidence``; with a ``judge``, ask it too and keep the stricter verdict."""
    findings = run_detectors(evidence)
    inspection = Inspection(
        agent=evidence.agent,
        role=evidence.role,
        verdict=rule_verdict(findings),
        evidence=evidence_lines(evidence, findings),
        findings=findings,
    )
    if judge is None:
        return inspection
    opinion = judge(inspection, evidence)
    verdict = stricter(inspection.verdict, opinion.verdict if opinion.status == "ok" else None)
    return inspection.model_copy(update={"judge": opinion, "verdict": verdict})
