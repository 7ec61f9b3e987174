"""Campaign folders under ``$AAR_HOME/campaigns``: list them, start one as a detached ``aar campaign run``
child, stop one (the ``STOP`` file, as ``aar campaign stop`` does), and summarise one's progress.

A start writes the plan (``campaign.json``) here, so its id is known at once and a bad budget, model or task
is a 422 rather than a dead child, then runs ``aar campaign run --no-live --resume ID`` with this stack's
scorer and forum URLs. The child's pid and command go to ``process.json``, its output to ``process.log``.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from services.common.localstack import aar_command
from services.dashboard.config import DashboardSettings
from services.dashboard.contract import (
    AgentProgress,
    CampaignInfo,
    CampaignProgress,
    CampaignStart,
    CurvePoint,
)
from services.dashboard.upstream import Upstreams
from workers.agent.campaign.plan import CampaignPlan, build_plan
from workers.agent.campaign.report import summarise
from workers.agent.config import get_settings as agent_settings
from workers.agent.prompts import load_directions

PROCESS_FILE, LOG_FILE, STOP_FILE = "process.json", "process.log", "STOP"
SHUTDOWN_GRACE_S = 100.0  # within the dashboard's stop_grace_period / terminationGracePeriodSeconds (120 s)
logger = logging.getLogger("aar.dashboard")


class CampaignError(ValueError):
    """A start request that cannot run (bad budget, unpriced model): a 422."""


class Campaigns:
    """The campaign folders of one ``AAR_HOME``, and the ``aar campaign run`` children this process started."""

    def __init__(self, settings: DashboardSettings):
        self.settings = settings
        self.root = settings.campaigns_dir
        self._children: dict[str, subprocess.Popen] = {}
        self._lock = threading.Lock()

    def load(self, campaign_id: str) -> CampaignPlan | None:
        """The campaign's plan, or None if there is no such campaign (or its plan is unreadable)."""
        try:
            return CampaignPlan.load(self.root / campaign_id)
        except (OSError, ValueError):
            return None

    def transcript(self, plan: CampaignPlan, agent: str) -> Path:
        return self.root / plan.id / "transcripts" / f"{agent}.jsonl"

    def plans(self, limit: int) -> list[CampaignPlan]:
        """The newest ``limit`` campaigns' plans, newest first."""
        found = self.root.glob("*/campaign.json") if self.root.is_dir() else []
        plans = [plan for path in found if (plan := self.load(path.parent.name)) is not None]
        return sorted(plans, key=lambda p: p.created_at, reverse=True)[:limit]

    def info(self, plan: CampaignPlan, log_chars: int = 0) -> CampaignInfo:
        """The campaign's plan and process state (with the end of its process log when ``log_chars``)."""
        folder = self.root / plan.id
        process = _read_json(folder / PROCESS_FILE)
        stop = (folder / STOP_FILE).exists()
        alive, exit_code = self._status(plan.id, process.get("pid"))
        if not process:
            state = "external"
        elif alive:
            state = "stopping" if stop else "running"
        else:
            state = "exited"
        log = folder / LOG_FILE
        return CampaignInfo(
            id=plan.id,
            task=plan.task,
            backend=plan.backend,
            model=plan.model,
            agents=[a.name for a in plan.agents],
            created_at=datetime.fromtimestamp(plan.created_at, UTC),
            state=state,
            stop_requested=stop,
            pid=process.get("pid"),
            exit_code=exit_code,
            command=process.get("command"),
            log_tail=log.read_text(errors="replace")[-log_chars:] if log_chars and log.exists() else None,
        )

    def _status(self, campaign_id: str, pid: int | None) -> tuple[bool, int | None]:
        """(alive, exit code if known): our own child is polled (and so reaped); a child of an earlier
        dashboard process is looked up in /proc, its command line naming the campaign."""
        with self._lock:
            child = self._children.get(campaign_id)
        if child is not None:
            code = child.poll()
            return code is None, code
        if pid is None:
            return False, None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False, None
        return campaign_id.encode() in cmdline, None

    def plan(self, body: CampaignStart, task_names: set[str]) -> CampaignPlan:
        """A new campaign's plan, as ``aar campaign run`` would make it; ``CampaignError`` if it cannot run."""
        if body.task not in task_names:
            raise CampaignError(f"unknown task {body.task!r}; the scorer has {', '.join(sorted(task_names))}")
        texts = [d.strip() for d in body.directions or [] if d.strip()]
        if texts:
            directions = [texts[i % len(texts)] for i in range(body.agents)]
        else:
            directions = load_directions("builtin", body.agents)
        try:
            return build_plan(
                settings=agent_settings(),
                task=body.task,
                directions=directions,
                hackers=body.hackers,
                backend=body.backend,
                model=body.model,
                budget=body.budget,
                campaign_budget=body.campaign_budget,
                sandbox=body.sandbox or self.settings.sandbox,
                sandbox_allow=self.settings.sandbox_allow,
                experiments=body.experiments,
                scorer_url=self.settings.scorer_url,
                forum_url=self.settings.forum_url,
            )
        except ValueError as exc:
            raise CampaignError(str(exc)) from None

    def start(self, plan: CampaignPlan) -> CampaignInfo:
        """Save the plan and start ``aar campaign run --no-live --resume ID`` detached (own session)."""
        folder = self.root / plan.id
        plan.save(folder)
        command = [
            *aar_command(),
            "campaign",
            "run",
            "--no-live",
            "--resume",
            plan.id,
            "--scorer-url",
            self.settings.scorer_url,
            "--forum-url",
            self.settings.forum_url,
        ]
        env = {
            **os.environ,
            "AAR_HOME": str(self.settings.home),
            "AAR_SCORER_URL": self.settings.scorer_url,
            "AAR_FORUM_URL": self.settings.forum_url,
        }
        if self.settings.admin_token:
            env["AAR_ADMIN_TOKEN"] = self.settings.admin_token
        with open(folder / LOG_FILE, "ab") as log:
            child = subprocess.Popen(
                command,
                env=env,
                cwd=folder,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        with self._lock:
            self._children[plan.id] = child
        record = {"pid": child.pid, "command": command, "log": str(folder / LOG_FILE), "started_at": time.time()}
        (folder / PROCESS_FILE).write_text(json.dumps(record, indent=2))
        logger.info("campaign started", extra={"campaign": plan.id, "pid": child.pid, "command": command})
        return self.info(plan)

    def shutdown(self, grace_s: float = SHUTDOWN_GRACE_S) -> None:
        """The dashboard is going away (SIGTERM from ``docker compose down`` or Kubernetes): SIGTERM every
        campaign it started, so each removes its sandboxes, and wait up to ``grace_s`` for them; kill the rest."""
        with self._lock:
            children = {cid: c for cid, c in self._children.items() if c.poll() is None}
        for child in children.values():
            child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for campaign_id, child in children.items():
            try:
                child.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.error("campaign did not stop in time; killed", extra={"campaign": campaign_id})
                child.kill()
        if children:
            logger.info("campaigns stopped", extra={"campaigns": sorted(children)})

    def stop(self, plan: CampaignPlan) -> CampaignInfo:
        """Ask every agent to end after its current step (``aar campaign stop``: touch ``STOP``)."""
        (self.root / plan.id / STOP_FILE).touch()
        logger.info("campaign stop requested", extra={"campaign": plan.id})
        return self.info(plan)

    def progress(self, plan: CampaignPlan, upstreams: Upstreams) -> CampaignProgress:
        """Per agent: best verified PGR over time, submissions, flags and posts (``report.summarise``)."""
        summaries = summarise(self.root / plan.id, plan, upstreams.caching_scorer(), upstreams.forum)
        agents = [
            AgentProgress(
                agent=s.name,
                direction=s.direction,
                submissions=s.submissions,
                flagged=s.flagged,
                best_pgr=s.best_pgr,
                best_private_pgr=s.best_private_pgr,
                best_submission=s.best_submission,
                posts=s.posts,
                curve=[CurvePoint(at=at, pgr=pgr) for at, pgr in s.pgr_curve],
            )
            for s in summaries
        ]
        started = datetime.fromtimestamp(plan.created_at, UTC)
        return CampaignProgress(campaign=plan.id, task=plan.task, started_at=started, agents=agents)


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
