"""``aar demo``: the main job on the embedded default — a 3-agent campaign on the offline CPU task.

Without ``ANTHROPIC_API_KEY`` the researchers are the offline researcher (a baseline policy, no LLM);
with it they are Claude. SQLite, a local queue, bubblewrap sandboxes, all on this machine.
"""

from __future__ import annotations

from typing import Annotated

import typer

from aar.cli.campaign import run_campaign
from aar.cli.common import quiet_libraries


def demo(
    agents: Annotated[int, typer.Option("--agents", min=1, max=9)] = 3,
    task: Annotated[str, typer.Option("--task", help="Offline task.")] = "rt-polarity",
    experiments: Annotated[int, typer.Option("--experiments", min=1, help="Offline researcher: per agent.")] = 2,
    budget: Annotated[str, typer.Option("--budget", help="Per agent (with Claude).")] = "usd=2,hours=1",
    live: Annotated[bool, typer.Option("--live/--no-live")] = True,
) -> None:
    """Run a small campaign end to end on the embedded default and write its report."""
    quiet_libraries()
    run_campaign(
        agents=agents,
        directions="builtin",
        task=task,
        budget=budget,
        campaign_budget=None,
        backend=None,
        model=None,
        sandbox="bwrap",
        experiments=experiments,
        scorer_url=None,
        forum_url=None,
        resume=None,
        live=live,
    )
