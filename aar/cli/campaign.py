"""``aar campaign``: run, stop, resume and report campaigns of researcher agents."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from aar.cli.common import console, out, quiet_libraries
from services.common.terminal import plain

app = typer.Typer(help="Campaigns: N researchers in parallel, each with a sandbox, on one task.", no_args_is_help=True)


def campaigns_dir() -> Path:
    from w2s.config import get_settings

    return get_settings().home / "campaigns"


def _folder(campaign_id: str) -> Path:
    folder = campaigns_dir() / campaign_id
    if not (folder / "campaign.json").exists():
        console.print(f"[bold red]error:[/] no campaign {campaign_id!r} under {campaigns_dir()}")
        raise typer.Exit(2)
    return folder


def run_campaign(
    *,
    agents: int,
    directions: str,
    task: str,
    hackers: int = 0,
    budget: str | None,
    campaign_budget: str | None,
    backend: str | None,
    model: str | None,
    sandbox: str,
    sandbox_allow: str | None = None,
    experiments: int,
    scorer_url: str | None,
    forum_url: str | None,
    resume: str | None,
    live: bool,
    baseline: str | None = None,
) -> Path:
    """Plan (or reload) a campaign, run it, print the outcome; returns the campaign folder."""
    from w2s.config import get_settings as engine_settings
    from workers.agent.campaign.plan import CampaignPlan, build_plan
    from workers.agent.campaign.runner import Campaign
    from workers.agent.config import get_settings
    from workers.agent.prompts import load_directions

    settings = get_settings()
    if resume:
        folder = _folder(resume)
        plan = CampaignPlan.load(folder)
    else:
        try:
            plan = build_plan(
                settings=settings,
                task=task,
                directions=load_directions(directions, agents),
                hackers=hackers,
                backend=backend,
                model=model,
                budget=budget,
                campaign_budget=campaign_budget,
                sandbox=sandbox,
                sandbox_allow=sandbox_allow,
                experiments=experiments,
                scorer_url=scorer_url,
                forum_url=forum_url,
                baseline=baseline,
            )
        except (ValueError, ValidationError) as exc:
            console.print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(2) from None
        folder = campaigns_dir() / plan.id
    if plan.backend == "offline":
        console.print(
            "[yellow]No ANTHROPIC_API_KEY: the researchers are the offline researcher, a baseline policy (no LLM).[/]"
        )
    campaign = Campaign(folder, plan, settings, engine_settings().home)
    outcome = campaign.run(console=console, live=live)
    if not live:
        out.print(campaign.table())
    table = Table("agent", "ended", title=f"campaign {plan.id}")
    for agent, reason in outcome.items():  # an end reason can quote a model or a sandbox: plain text
        table.add_row(plain(agent), plain(reason))
    out.print(table)
    out.print(f"report: {folder / 'report' / 'report.md'}")
    return folder


@app.command()
def run(
    agents: Annotated[int, typer.Option("--agents", min=1, max=64, help="How many researchers.")] = 3,
    hackers: Annotated[
        int, typer.Option("--hackers", min=0, max=16, help="How many hackers: agents that attack the scorer.")
    ] = 0,
    directions: Annotated[str, typer.Option("--directions", help="'builtin' or a file, one direction a line.")] = (
        "builtin"
    ),
    task: Annotated[str, typer.Option("--task")] = "rt-polarity",
    budget: Annotated[str | None, typer.Option("--budget", help="Per agent, e.g. usd=20,hours=8,tool_calls=500.")] = (
        None
    ),
    campaign_budget: Annotated[str | None, typer.Option("--campaign-budget", help="For all agents together.")] = None,
    backend: Annotated[str | None, typer.Option("--backend", help="anthropic, openai, offline (default: auto).")] = (
        None
    ),
    model: Annotated[str | None, typer.Option("--model", help="Model name (default AAR_AGENT_MODEL).")] = None,
    sandbox: Annotated[str, typer.Option("--sandbox", envvar="AAR_SANDBOX_PROVIDER", help="bwrap or docker.")] = (
        "bwrap"
    ),
    sandbox_allow: Annotated[
        str | None,
        typer.Option(
            "--sandbox-allow", envvar="AAR_SANDBOX_ALLOW", help="Services sandboxes may reach: name=host:port,…"
        ),
    ] = None,
    experiments: Annotated[int, typer.Option("--experiments", min=1, help="Offline researcher: per agent.")] = 3,
    scorer_url: Annotated[str | None, typer.Option("--scorer-url", envvar="AAR_SCORER_URL")] = None,
    forum_url: Annotated[str | None, typer.Option("--forum-url", envvar="AAR_FORUM_URL")] = None,
    resume: Annotated[str | None, typer.Option("--resume", help="Resume this campaign id.")] = None,
    baseline: Annotated[
        str | None,
        typer.Option("--baseline", help="Offline campaign id the report compares with (default: the newest)."),
    ] = None,
    live: Annotated[bool, typer.Option("--live/--no-live", help="Live progress table.")] = True,
) -> None:
    """Run a campaign (with no scorer/forum URL, the embedded services start here)."""
    quiet_libraries()
    run_campaign(
        agents=agents,
        hackers=hackers,
        directions=directions,
        task=task,
        budget=budget,
        campaign_budget=campaign_budget,
        backend=backend,
        model=model,
        sandbox=sandbox,
        sandbox_allow=sandbox_allow,
        experiments=experiments,
        scorer_url=scorer_url,
        forum_url=forum_url,
        resume=resume,
        live=live,
        baseline=baseline,
    )


@app.command()
def stop(campaign_id: str) -> None:
    """Ask a running campaign to stop: every agent ends cleanly after its current step."""
    (_folder(campaign_id) / "STOP").touch()
    out.print(f"stop requested for {campaign_id}; resume with `aar campaign run --resume {campaign_id}`")


@app.command("list")
def list_campaigns() -> None:
    """Campaigns under $AAR_HOME/campaigns, newest first."""
    from workers.agent.campaign.plan import CampaignPlan

    table = Table("id", "task", "agents", "backend", "report")
    root = campaigns_dir()
    for folder in sorted(root.glob("*/campaign.json"), reverse=True) if root.exists() else []:
        plan = CampaignPlan.load(folder.parent)
        report = folder.parent / "report" / "report.md"
        table.add_row(plan.id, plan.task, str(len(plan.agents)), plan.backend, str(report) if report.exists() else "—")
    out.print(table)


@app.command("inspect")
def inspect_agents(
    campaign_id: str,
    agent: Annotated[list[str] | None, typer.Option("--agent", help="Only these agents (repeatable).")] = None,
    scorer_url: Annotated[str | None, typer.Option("--scorer-url", envvar="AAR_SCORER_URL")] = None,
    forum_url: Annotated[str | None, typer.Option("--forum-url", envvar="AAR_FORUM_URL")] = None,
) -> None:
    """Inspect a campaign's agents now: PASS / SUSPICIOUS / FAIL with evidence, recorded with the scorer (a FAIL
    holds the agent's leaderboard entries until an admin clears it) and in the campaign's ``inspection/``."""
    from contextlib import ExitStack

    from services.common.tokens import admin_token
    from services.forum.client import ForumClient
    from services.scorer.client import ScorerClient
    from w2s.config import get_settings as engine_settings
    from workers.agent.campaign.inspection import inspect_campaign
    from workers.agent.campaign.plan import CampaignPlan
    from workers.agent.config import get_settings

    quiet_libraries()
    folder = _folder(campaign_id)
    plan = CampaignPlan.load(folder)
    home, settings = engine_settings().home, get_settings()
    with ExitStack() as stack:
        scorer_url, forum_url = scorer_url or plan.scorer_url, forum_url or plan.forum_url
        if not (scorer_url and forum_url):  # an embedded campaign: its services, on its database, for the while
            from services.common.localstack import LocalStack

            local = stack.enter_context(LocalStack(home, log_dir=folder / "logs"))
            local.start()
            scorer_url, forum_url = scorer_url or local.scorer_url, forum_url or local.forum_url
        token = admin_token(home, settings.admin_token)
        scorer = stack.enter_context(ScorerClient(scorer_url, token))
        forum = stack.enter_context(ForumClient(forum_url, token))
        results = inspect_campaign(folder, plan, scorer, forum, settings, set(agent) if agent else None)
    table = Table("agent", "verdict", "evidence", title=f"inspection of {plan.id}")
    for name, result in results.items():  # evidence quotes what agents wrote: plain text
        table.add_row(plain(name), result.verdict, plain("\n".join(result.evidence[:5])))
    out.print(table)
