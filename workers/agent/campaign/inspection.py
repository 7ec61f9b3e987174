"""Inspecting a campaign's agents: gather each one's evidence (transcript, workspace snapshot, every source it
submitted with the flags it was shown, its forum posts), run the inspector on it, and record the verdict with
the scorer (``/v1/admin/inspections``: a FAIL holds the agent's leaderboard entries) and in the campaign
folder (``inspection/<agent>.json``). Runs after each agent's session ends, and on demand
(``aar campaign inspect``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from services.forum.client import ForumClient
from services.scorer.client import ScorerClient
from services.scorer.contract import InspectionCreate, SubmissionAdmin
from workers.agent.campaign.plan import AgentPlan, CampaignPlan
from workers.agent.config import AgentSettings
from workers.agent.inspector.evidence import AgentEvidence, ForumPost, SubmittedSource, read_transcript, read_workspace
from workers.agent.inspector.verdict import Inspection, inspect

log = logging.getLogger("aar.inspection")
MAX_SUBMISSIONS = 500


def submitted_sources(scorer: ScorerClient, task: str, agent: str) -> list[SubmittedSource]:
    """Every method the agent submitted on ``task``, with the flags the agent was shown (``scorer``: an admin
    client). Not the admin-only ones: they read private labels, and a FAIL holds a leaderboard entry that
    agents see, so the verdict must not depend on them (admins see them on the leaderboard)."""
    submissions = []
    for sub in scorer.submissions(task=task, agent=agent, limit=MAX_SUBMISSIONS).data:
        detail = scorer.submission(sub.id)
        if not isinstance(detail, SubmissionAdmin) or detail.source is None:
            continue  # predictions carry no source
        submissions.append(
            SubmittedSource(
                id=sub.id,
                task=sub.task,
                source=detail.source,
                status=str(sub.status),
                flags=list(sub.flags),
                created_at=sub.created_at,
                description=detail.description,
            )
        )
    return submissions


def gather(
    folder: Path, plan: CampaignPlan, agent: AgentPlan, scorer: ScorerClient, forum: ForumClient
) -> AgentEvidence:
    """Everything the inspector reads of one agent (``scorer`` and ``forum``: admin clients)."""
    posts = [
        ForumPost(id=str(p.id), kind=str(p.type), title=p.title, body=p.body)
        for p in forum.iter_posts(page_size=100, author=agent.name)
    ]
    snapshot = folder / "agents" / f"{agent.name}.workspace.tar.gz"
    return AgentEvidence(
        agent=agent.name,
        role=agent.role,
        records=read_transcript(folder / "transcripts" / f"{agent.name}.jsonl"),
        workspace=read_workspace(snapshot) if snapshot.is_file() else {},
        submissions=submitted_sources(scorer, plan.task, agent.name),
        posts=posts,
    )


def inspect_agent(
    folder: Path,
    plan: CampaignPlan,
    agent: AgentPlan,
    scorer: ScorerClient,
    forum: ForumClient,
    settings: AgentSettings | None = None,
) -> Inspection:
    """Inspect one agent, record the verdict with the scorer and in ``inspection/<agent>.json``."""
    evidence = gather(folder, plan, agent, scorer, forum)
    result = inspect(evidence, judge=_judge(settings))
    out = folder / "inspection"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{agent.name}.json").write_text(result.model_dump_json(indent=2))
    scorer.record_inspection(
        agent.name,
        InspectionCreate(
            verdict=result.verdict,
            evidence=[line[:500] for line in result.evidence[:200]],
            judge=_opinion(result),
            campaign=plan.id,
        ),
    )
    return result


def inspect_campaign(
    folder: Path,
    plan: CampaignPlan,
    scorer: ScorerClient,
    forum: ForumClient,
    settings: AgentSettings | None = None,
    names: set[str] | None = None,
) -> dict[str, Inspection]:
    """Inspect every agent of the campaign (or those in ``names``); an agent whose inspection fails is logged
    and left uninspected, the others go on."""
    results = {}
    for agent in plan.agents:
        if names is not None and agent.name not in names:
            continue
        try:
            results[agent.name] = inspect_agent(folder, plan, agent, scorer, forum, settings)
        except Exception:
            log.exception("could not inspect %s", agent.name)
    return results


def _judge(settings: AgentSettings | None):
    """The Claude judge when a key is set (``None``: the rule-based detectors alone)."""
    if settings is None or settings.resolved_backend() != "anthropic":
        return None
    from workers.agent.inspector.judge import ClaudeJudge

    return ClaudeJudge.from_settings(settings)


def _opinion(result: Inspection) -> str | None:
    """The judge's opinion in one text: its status, verdict and reasons."""
    if result.judge is None:
        return None
    opinion = result.judge
    head = f"{opinion.model or 'judge'}: {opinion.status}" + (f", {opinion.verdict}" if opinion.verdict else "")
    return "\n".join([head, *opinion.reasons])[:4000]
