"""The campaign report: ``report/report.md`` plus PNG plots of the best verified PGR over time per agent,
cost over time, and forum activity. Scores come from the scorer (admin view: server-computed only),
spend from the transcripts, activity from the forum.

Every report also writes ``report/curve.json``: the campaign's best verified PGR after each scored
submission. A campaign of model researchers draws the curve of a search baseline (an offline campaign on
the same task: the one its plan names, else the newest) beside its own, so a reader sees whether the
agents beat plain search over the built-in methods.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from services.forum.client import ForumClient
from services.scorer.client import ScorerClient
from services.scorer.contract import Attack, AttackList, Inspection, InspectionList, SubmissionAdmin
from workers.agent.campaign.plan import CampaignPlan
from workers.agent.records import AgentEnd, AgentStart, ModelCall, ToolResult
from workers.agent.transcript import read_records

ATTACKS_FILE = "attacks.json"


@dataclass
class AgentSummary:
    name: str
    direction: str
    role: str = "researcher"
    end: str = "running"
    cost_usd: float = 0.0
    model_calls: int = 0
    tool_calls: int = 0
    wall_h: float = 0.0
    submissions: int = 0
    flagged: int = 0
    best_pgr: float | None = None
    best_private_pgr: float | None = None
    best_submission: str | None = None
    transfer_pgr: float | None = None  # held-out transfer of the agent's leaderboard entry, once finalised
    posts: int = 0
    pgr_curve: list[tuple[datetime, float]] = field(default_factory=list)
    cost_curve: list[tuple[datetime, float]] = field(default_factory=list)
    post_times: list[datetime] = field(default_factory=list)
    scored: list[tuple[datetime, float, float | None]] = field(default_factory=list)


@dataclass(frozen=True)
class CurvePoint:
    """The campaign's best verified PGR (and that submission's private PGR) after ``submissions`` scored ones."""

    minutes: float
    submissions: int
    best_pgr: float
    best_private_pgr: float | None


@dataclass(frozen=True)
class Baseline:
    """A stored search-baseline run: its campaign id, agents and curve."""

    campaign: str
    agents: int
    points: list[CurvePoint]

    def at(self, submissions: int) -> CurvePoint | None:
        """The baseline's best after at most ``submissions`` scored submissions (the same budget)."""
        return next((p for p in reversed(self.points) if p.submissions <= submissions), None)


def _at(value: str | datetime) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def summarise(folder: Path, plan: CampaignPlan, scorer: ScorerClient, forum: ForumClient) -> list[AgentSummary]:
    """Per-agent numbers and curves from transcripts, scorer submissions and forum posts."""
    names = {a.name for a in plan.agents}
    summaries = {a.name: AgentSummary(a.name, a.direction, a.role) for a in plan.agents}
    for s in summaries.values():
        records = read_records(folder / "transcripts" / f"{s.name}.jsonl")
        starts = [_at(r.at) for r in records if isinstance(r, AgentStart)]
        for r in records:
            totals = r.totals if isinstance(r, ModelCall | ToolResult | AgentEnd) else None
            if totals is not None:
                if isinstance(r, ModelCall):
                    s.cost_curve.append((_at(r.at), totals.cost_usd))
                s.cost_usd, s.model_calls, s.tool_calls = totals.cost_usd, totals.model_calls, totals.tool_calls
            if isinstance(r, AgentEnd):
                s.end = r.reason
        if starts and records:
            s.wall_h = (_at(records[-1].at) - starts[0]).total_seconds() / 3600
    subs = [sub for name in names for sub in scorer.submissions(task=plan.task, agent=name, limit=500).data]
    for sub in sorted(subs, key=lambda x: x.finished_at or x.created_at):
        s = summaries[sub.agent]
        s.submissions += 1
        s.flagged += bool(sub.flags)
        if s.role == "hacker":  # attacks are reported on their own (``attack_lines``), never as scores
            continue
        detail = scorer.submission(sub.id) if sub.status == "done" else None
        full = detail.full_result if isinstance(detail, SubmissionAdmin) else None  # the admin view
        if not full or sub.finished_at is None:
            continue
        splits = full["report"]["splits"]
        pgr = splits["test_public"]["pgr"]["mean"]
        private = splits["test_private"]["pgr"]["mean"] if "test_private" in splits else None  # not for predictions
        if pgr is not None and not sub.flags:
            s.scored.append((_at(sub.finished_at), pgr, private))
        if pgr is not None and not sub.flags and (s.best_pgr is None or pgr > s.best_pgr):
            s.best_pgr, s.best_private_pgr, s.best_submission = pgr, private, sub.id
            s.pgr_curve.append((_at(sub.finished_at), pgr))
    for entry in scorer.leaderboard(plan.task).entries:  # the admin view: transfer scores once finalised
        if entry.agent in summaries:
            summaries[entry.agent].transfer_pgr = entry.transfer_pgr
    for post in forum.iter_posts(page_size=100, since=datetime.fromtimestamp(plan.created_at, UTC)):
        if post.author in names:
            summaries[post.author].posts += 1
            summaries[post.author].post_times.append(_at(post.created_at))
    return list(summaries.values())


def campaign_curve(agents: list[AgentSummary], start: datetime) -> list[CurvePoint]:
    """The best verified public PGR over all agents after each scored submission, in time order."""
    points: list[CurvePoint] = []
    best: tuple[float, float | None] | None = None
    for n, (moment, pgr, private) in enumerate(sorted(s for a in agents for s in a.scored), start=1):
        if best is None or pgr > best[0]:
            best = (pgr, private)
        points.append(CurvePoint((moment - start).total_seconds() / 60, n, *best))
    return points


def _write_curve(path: Path, plan: CampaignPlan, points: list[CurvePoint]) -> None:
    data = {
        "campaign": plan.id,
        "task": plan.task,
        "backend": plan.backend,
        "agents": len(plan.agents),
        "points": [p.__dict__ for p in points],
    }
    path.write_text(json.dumps(data, indent=1))


def find_baseline(folder: Path, plan: CampaignPlan) -> Baseline | None:
    """The search baseline for a campaign of model researchers: the offline campaign its plan names, else the
    newest offline campaign on the same task beside it that has a report; ``None`` for an offline campaign."""
    if plan.backend == "offline":
        return None
    candidates = [folder.parent / plan.baseline] if plan.baseline else sorted(folder.parent.iterdir())
    found: list[tuple[float, Baseline]] = []
    for other in candidates:
        curve = other / "report" / "curve.json"
        if other == folder or not curve.is_file() or not (other / "campaign.json").is_file():
            continue
        other_plan = CampaignPlan.load(other)
        data = json.loads(curve.read_text())
        if other_plan.backend == "offline" and other_plan.task == plan.task:
            points = [CurvePoint(**p) for p in data["points"]]
            found.append((other_plan.created_at, Baseline(other_plan.id, len(other_plan.agents), points)))
    return max(found, key=lambda x: x[0])[1] if found else None


def _plot(
    path: Path,
    title: str,
    ylabel: str,
    series: dict[str, list[tuple[datetime, float]]],
    step: bool,
    start: datetime,
    end: datetime,
    counts: bool = False,
    baseline: Baseline | None = None,
) -> None:
    """One line per agent against minutes since the campaign started; step lines run on to ``end``;
    ``counts`` keeps the y ticks on whole numbers; ``baseline`` adds its curve (minutes since its own start)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    for name, points in series.items():
        if points:
            points = sorted(points) + ([(end, sorted(points)[-1][1])] if step else [])
            xs = [(t - start).total_seconds() / 60 for t, _ in points]
            ys = [y for _, y in points]
            if step:
                ax.step(xs, ys, where="post", marker="o", label=name)
            else:
                ax.plot(xs, ys, marker=".", label=name)
    if baseline and baseline.points:
        xs = [p.minutes for p in baseline.points]
        ys = [p.best_pgr for p in baseline.points]
        ax.step(xs, ys, where="post", color="black", linestyle="--", label=f"search baseline ({baseline.campaign})")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.set_xlabel(f"minutes since the campaign started ({start:%Y-%m-%d %H:%M} UTC)")
    ax.grid(alpha=0.3)
    if counts:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if any(series.values()):
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _against_search(plan: CampaignPlan, curve: list[CurvePoint], baseline: Baseline | None) -> list[str]:
    """The report's "baseline" lines: this campaign's best against the search baseline's at the same budget."""
    ours = curve[-1] if curve else None
    mine = f"best public PGR {_fmt(ours.best_pgr)} (private {_fmt(ours.best_private_pgr)})" if ours else "no score"
    head = f"This campaign: {mine} after {ours.submissions if ours else 0} scored submissions."
    if plan.backend == "offline":
        return ["## Search baseline", "", head + " It is itself a search baseline for model researchers on this task."]
    if baseline is None:
        return [
            "## Against search",
            "",
            head,
            f"No search baseline on `{plan.task}` yet: run `aar campaign run --backend offline --task {plan.task}` "
            "to compare the agents with a budgeted search over the built-in methods.",
        ]
    same = baseline.at(ours.submissions if ours else 0)
    last = baseline.points[-1] if baseline.points else None
    lines = [
        "## Against search",
        "",
        head,
        f"Search baseline `{baseline.campaign}` ({baseline.agents} offline researchers, a budgeted search over the "
        f"built-in methods, dashed on the plot): best public PGR {_fmt(same.best_pgr if same else None)} "
        f"(private {_fmt(same.best_private_pgr if same else None)}) within the same number of scored submissions; "
        f"{_fmt(last.best_pgr if last else None)} after all {last.submissions if last else 0}.",
    ]
    if ours and same:
        delta = ours.best_pgr - same.best_pgr
        verdict = "beat" if delta > 0 else "did not beat"
        lines.append(f"**The agents {verdict} search** at the same budget: {delta:+.3f} public PGR.")
    return lines


def _cell(text: str, chars: int = 120) -> str:
    """Agent-written text as one markdown table cell."""
    return " ".join(text.split())[:chars].replace("|", "\\|") or "-"


def campaign_attacks(plan: CampaignPlan, scorer: ScorerClient) -> list[Attack]:
    """Every attack of the campaign's hackers, with the scorer's verdict (``scorer``: an admin client)."""
    return [a for agent in plan.agents if agent.role == "hacker" for a in scorer.attacks(agent=agent.name).data]


def campaign_inspections(plan: CampaignPlan, scorer: ScorerClient) -> tuple[list[Inspection], list[str]]:
    """The inspector's verdicts on the campaign's agents, and the agents with none yet."""
    names = {a.name for a in plan.agents}
    found = [i for i in scorer.inspections().data if i.agent in names]
    return found, sorted(names - {i.agent for i in found})


def attack_lines(out: Path, plan: CampaignPlan, scorer: ScorerClient) -> list[str]:
    """The hackers' attacks with the scorer's verdicts (also written to ``attacks.json``, which
    ``aar scorer redteam export`` reads); nothing for a campaign without hackers."""
    hackers = [a.name for a in plan.agents if a.role == "hacker"]
    if not hackers:
        return []
    attacks = campaign_attacks(plan, scorer)
    (out / ATTACKS_FILE).write_text(AttackList(data=attacks, count=len(attacks)).model_dump_json(indent=2))
    findings = [a for a in attacks if a.verdict == "unflagged"]
    lines = [
        "## Attacks on the scorer",
        "",
        f"{len(hackers)} hacker(s) made {len(attacks)} attacks: "
        + ", ".join(
            f"{sum(a.verdict == v for a in attacks)} {v}" for v in ("blocked", "failed", "flagged", "unflagged")
        )
        + ". An unflagged attack is a finding: `aar scorer redteam export "
        + f"{plan.id}` writes each as an open case of the red-team corpus that CI replays.",
        "",
        "| hacker | submission | verdict | flags | public PGR | private PGR | what it tried |",
        "|---|---|---|---|---|---|---|",
    ]
    for a in sorted(attacks, key=lambda a: a.created_at):
        lines.append(
            f"| {a.agent} | {a.submission_id} | {'**unflagged**' if a.verdict == 'unflagged' else a.verdict} "
            f"| {', '.join(a.flags) or '-'} | {_fmt(a.public_pgr)} | {_fmt(a.private_pgr)} | {_cell(a.description)} |"
        )
    return [*lines, "", f"Findings: {len(findings)}.", ""]


def inspection_lines(out: Path, plan: CampaignPlan, scorer: ScorerClient) -> list[str]:
    """The inspector's verdict on every agent, with its first evidence lines (all in ``inspections.json``)."""
    found, missing = campaign_inspections(plan, scorer)
    (out / "inspections.json").write_text(InspectionList(data=found, count=len(found)).model_dump_json(indent=2))
    if not found:
        return ["## Inspection", "", "No agent was inspected.", ""]
    counts = ", ".join(f"{sum(i.verdict == v for i in found)} {v}" for v in ("PASS", "SUSPICIOUS", "FAIL"))
    held = [i.agent for i in found if i.held]
    lines = [
        "## Inspection",
        "",
        f"**Sign-off:** {counts}; held by a FAIL: {', '.join(held) or 'none'}; not inspected: "
        f"{', '.join(missing) or 'none'}.",
        "",
        "The inspector read every agent's transcript, workspace and submitted sources (docs/agents.md). A FAIL "
        "holds the agent's leaderboard entries until an admin clears it.",
        "",
        "| agent | role | verdict | held | evidence |",
        "|---|---|---|---|---|",
    ]
    for i in sorted(found, key=lambda i: i.agent):
        evidence = "<br>".join(_cell(line, 160) for line in i.evidence[:4]) or "-"
        lines.append(f"| {i.agent} | {i.role} | **{i.verdict}** | {'yes' if i.held else 'no'} | {evidence} |")
    return [*lines, ""]


def write_report(folder: Path, plan: CampaignPlan, scorer: ScorerClient, forum: ForumClient) -> Path:
    """Write ``report/report.md`` and its three PNGs; returns the markdown path."""
    out = folder / "report"
    out.mkdir(parents=True, exist_ok=True)
    agents = summarise(folder, plan, scorer, forum)
    start = datetime.fromtimestamp(plan.created_at, UTC)
    end = max(
        [start, *(t for a in agents for t, _ in a.pgr_curve + a.cost_curve), *(t for a in agents for t in a.post_times)]
    )
    frame: dict[str, Any] = {"start": start, "end": end}
    curve = campaign_curve(agents, start)
    _write_curve(out / "curve.json", plan, curve)
    baseline = find_baseline(folder, plan)
    _plot(
        out / "best_pgr.png",
        f"Best verified PGR over time ({plan.task})",
        "PGR (test_public, server)",
        {
            **{a.name: a.pgr_curve for a in agents},
            "campaign best": [(start + timedelta(minutes=p.minutes), p.best_pgr) for p in curve],
        },
        step=True,
        baseline=baseline,
        **frame,
    )
    _plot(
        out / "cost.png",
        "Cost over time",
        "USD (cumulative)",
        {a.name: a.cost_curve for a in agents},
        step=False,
        **frame,
    )
    _plot(
        out / "forum.png",
        "Forum activity",
        "posts (cumulative)",
        {a.name: [(t, i + 1) for i, t in enumerate(sorted(a.post_times))] for a in agents},
        step=True,
        counts=True,
        **frame,
    )
    offline = " (offline researcher: a baseline policy, no LLM)" if plan.backend == "offline" else ""
    total_cost = sum(a.cost_usd for a in agents)
    hours = sum(a.wall_h for a in agents)
    lines = [
        f"# Campaign {plan.id}",
        "",
        f"Task `{plan.task}`, {len(agents)} agents, backend `{plan.backend}`{offline}, model `{plan.model}`.",
        f"Total cost ${total_cost:.2f} over {hours:.2f} agent-hours"
        + (f" (${total_cost / hours:.2f} per agent-hour)." if hours else "."),
        "",
        "Scores are server-verified (the scorer trained each method on seeds it chose); flagged submissions "
        "are left out of the best score.",
        "",
        "| agent | direction | end | submissions | flagged | best PGR (public) | its private PGR "
        "| held-out transfer PGR | posts | cost $ |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for a in sorted(agents, key=lambda a: -(a.best_pgr if a.best_pgr is not None else -1e9)):
        lines.append(
            f"| {a.name} | {a.direction.split(':')[0]} | {a.end} | {a.submissions} | {a.flagged} | {_fmt(a.best_pgr)} "
            f"| {_fmt(a.best_private_pgr)} | {_fmt(a.transfer_pgr)} | {a.posts} | {a.cost_usd:.2f} |"
        )
    lines += ["", *_against_search(plan, curve, baseline)]
    lines += ["", *attack_lines(out, plan, scorer), *inspection_lines(out, plan, scorer)]
    lines += ["", "![best PGR](best_pgr.png)", "", "![cost](cost.png)", "", "![forum](forum.png)", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path
