"""What the campaign benchmarks share: a fresh ``AAR_HOME`` on the embedded default (warm embedding cache
under ``$AAR_BENCH_HOME/cache``, default ``~/.aar-bench``) and an offline campaign run in it."""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


def fresh_home(seeds: int) -> Path:
    """A new ``AAR_HOME`` (own scoring secret, own databases) sharing the embedding cache; sets the environment."""
    cache = Path(os.environ.get("AAR_BENCH_HOME", "~/.aar-bench")).expanduser() / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="aar-bench-campaign-"))
    (home / "cache").symlink_to(cache, target_is_directory=True)
    os.environ.update(
        {
            "AAR_HOME": str(home),
            "AAR_SCORER_SEEDS": str(seeds),
            "AAR_DEVICE": "cpu",
            "DATABASE_URL": "",
            "REDIS_URL": "",
        }
    )
    for key in ("ANTHROPIC_API_KEY", "AAR_ADMIN_TOKEN", "AAR_SCORING_SECRET"):
        os.environ.pop(key, None)
    return home


@dataclass
class CampaignRun:
    folder: Path
    plan: object
    wall_s: float
    outcome: dict[str, str]


def run_offline_campaign(home: Path, task: str, agents: int, experiments: int) -> CampaignRun:
    """``agents`` offline researchers with the built-in directions, ``experiments`` submissions each, to the report."""
    from workers.agent.budget import Limits
    from workers.agent.campaign.plan import CampaignPlan, new_campaign_id, plan_agents
    from workers.agent.campaign.runner import Campaign
    from workers.agent.config import AgentSettings
    from workers.agent.prompts import load_directions

    campaign_id = new_campaign_id()
    plan = CampaignPlan(
        id=campaign_id,
        task=task,
        agents=plan_agents(campaign_id, load_directions("builtin", agents)),
        backend="offline",
        model="offline-baseline",
        agent_limits=Limits(),
        campaign_limits=Limits(),
        offline_experiments=experiments,
    )
    folder = home / "campaigns" / campaign_id
    start = time.perf_counter()
    outcome = Campaign(folder, plan, AgentSettings(), home).run(live=False)
    return CampaignRun(folder, plan, time.perf_counter() - start, outcome)
