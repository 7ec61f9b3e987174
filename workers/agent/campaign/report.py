"""The campaign report: ``report/report.md`` plus PNG plots of the best verified PGR over time per agent,
cost over time, and forum activity. Scores come from the scorer (admin view: server-computed only),
spend from the transcripts, activity from the forum.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from services.forum.client import ForumClient
from services.scorer.client import ScorerClient
from workers.agent.campaign.plan import CampaignPlan
from workers.agent.records import AgentEnd, AgentStart, ModelCall, ToolResult
from workers.agent.transcript import read_records


@dataclass
class AgentSummary:
    name: str
    direction: str
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
    posts: int = 0
    pgr_curve: list[tuple[datetime, float]] = field(default_factory=list)
    cost_curve: list[tuple[datetime, float]] = field(default_factory=list)
    post_times: list[datetime] = field(default_factory=list)


def _at(value: str | datetime) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def summarise(folder: Path, plan: CampaignPlan, scorer: ScorerClient, forum: ForumClient) -> list[AgentSummary]:
    """Per-agent numbers and curves from transcripts, scorer submissions and forum posts."""
    names = {a.name for a in plan.agents}
    summaries = {a.name: AgentSummary(a.name, a.direction) for a in plan.agents}
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
        full = scorer.submission(sub.id).full_result if sub.status == "done" else None
        if not full:
            continue
        splits = full["report"]["splits"]
        pgr = splits["test_public"]["pgr"]["mean"]
        private = splits["test_private"]["pgr"]["mean"] if "test_private" in splits else None  # not for predictions
        if pgr is not None and not sub.flags and (s.best_pgr is None or pgr > s.best_pgr):
            s.best_pgr, s.best_private_pgr, s.best_submission = pgr, private, sub.id
            s.pgr_curve.append((_at(sub.finished_at), pgr))
    for post in forum.iter_posts(page_size=100, since=datetime.fromtimestamp(plan.created_at, UTC)):
        if post.author in names:
            summaries[post.author].posts += 1
            summaries[post.author].post_times.append(_at(post.created_at))
    return list(summaries.values())


def _plot(
    path: Path,
    title: str,
    ylabel: str,
    series: dict[str, list[tuple[datetime, float]]],
    step: bool,
    start: datetime,
    end: datetime,
    counts: bool = False,
) -> None:
    """One line per agent against minutes since the campaign started; step lines run on to ``end``;
    ``counts`` keeps the y ticks on whole numbers."""
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


def write_report(folder: Path, plan: CampaignPlan, scorer: ScorerClient, forum: ForumClient) -> Path:
    """Write ``report/report.md`` and its three PNGs; returns the markdown path."""
    out = folder / "report"
    out.mkdir(parents=True, exist_ok=True)
    agents = summarise(folder, plan, scorer, forum)
    start = datetime.fromtimestamp(plan.created_at, UTC)
    end = max(
        [start, *(t for a in agents for t, _ in a.pgr_curve + a.cost_curve), *(t for a in agents for t in a.post_times)]
    )
    frame = {"start": start, "end": end}
    _plot(
        out / "best_pgr.png",
        f"Best verified PGR over time ({plan.task})",
        "PGR (test_public, server)",
        {a.name: a.pgr_curve for a in agents},
        step=True,
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
    baseline = " (offline researcher: a baseline policy, no LLM)" if plan.backend == "offline" else ""
    total_cost = sum(a.cost_usd for a in agents)
    hours = sum(a.wall_h for a in agents)
    lines = [
        f"# Campaign {plan.id}",
        "",
        f"Task `{plan.task}`, {len(agents)} agents, backend `{plan.backend}`{baseline}, model `{plan.model}`.",
        f"Total cost ${total_cost:.2f} over {hours:.2f} agent-hours"
        + (f" (${total_cost / hours:.2f} per agent-hour)." if hours else "."),
        "",
        "Scores are server-verified (the scorer trained each method on seeds it chose); flagged submissions "
        "are left out of the best score.",
        "",
        "| agent | direction | end | submissions | flagged | best PGR (public) | its private PGR | posts | cost $ |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    fmt = lambda v: "—" if v is None else f"{v:.3f}"  # noqa: E731
    for a in sorted(agents, key=lambda a: -(a.best_pgr if a.best_pgr is not None else -1e9)):
        lines.append(
            f"| {a.name} | {a.direction.split(':')[0]} | {a.end} | {a.submissions} | {a.flagged} | {fmt(a.best_pgr)} "
            f"| {fmt(a.best_private_pgr)} | {a.posts} | {a.cost_usd:.2f} |"
        )
    lines += ["", "![best PGR](best_pgr.png)", "", "![cost](cost.png)", "", "![forum](forum.png)", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path
