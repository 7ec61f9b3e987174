"""Run a campaign: N researchers, each with its own tokens, sandbox, transcript and budget, concurrently.

With no scorer or forum URL the embedded services are started here (``services.common.localstack``). The worker
holds every secret: the API key and each agent's tokens never enter a sandbox. ``STOP`` in the campaign
folder (``aar campaign stop``) or Ctrl-C ends every agent cleanly after its current step; running the
same campaign again resumes each agent from its transcript and its last workspace.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.table import Table

from sandbox.base import NetworkPolicy, Sandbox, SandboxError, SandboxProvider, SandboxSpec
from services.common.terminal import plain
from services.common.tokens import admin_token
from services.forum.client import ForumClient
from services.scorer.client import ScorerClient
from w2s.datasets import label_data_paths
from workers.agent.backends import make_backend
from workers.agent.budget import Budget, CampaignLedger, PriceTable
from workers.agent.campaign.plan import AgentPlan, CampaignPlan
from workers.agent.config import AgentSettings
from workers.agent.loop import Researcher, load_state
from workers.agent.prompts import hacker_prompt, opening_message, system_prompt
from workers.agent.tools.base import Toolbox
from workers.agent.tools.forum import forum_tools
from workers.agent.tools.scorer import scorer_tools
from workers.agent.tools.workspace import (
    NOTEBOOK,
    bound_notebook,
    notebook_tools,
    read_notebook,
    workspace_tools,
)
from workers.agent.transcript import Transcript

log = logging.getLogger("aar.campaign")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
RESUMABLE = ("stopped",)  # an agent that ended for another reason (finished, budget...) stays ended
FORUM_READ_TOOLS = frozenset({"forum_list", "forum_read", "forum_search", "forum_digest", "forum_download"})

SANDBOX_README = """# Your workspace

- `task/inputs.json`: {{"task", "transfer": [{{"id", "text", "weak_label"}}], "test_public": [{{"id", "text"}}]}}.
  `weak_label` is the weak teacher's P(class 1). There are no ground-truth labels anywhere.
- `NOTEBOOK.md`: your memory across sessions (`notebook_read`, `notebook_append`).
- `methods/`: put method modules here and submit them with `scorer_submit_method`.

Task `{task}`: {description}
"""


def agent_toolbox(
    settings: AgentSettings,
    sandbox: Sandbox,
    notebook: Path,
    scorer: ScorerClient,
    forum: ForumClient,
    task: str,
    should_stop,
    role: str = "researcher",
) -> Toolbox:
    """An agent's tools: workspace commands capped at ``AAR_AGENT_TOOL_TIMEOUT_S``, notebook (mirrored to the
    host file ``notebook``), scorer and forum (a hacker's forum tools only read)."""
    forum_side = forum_tools(forum, sandbox, timeout_cap_s=settings.tool_timeout_s)
    tools = [
        *workspace_tools(sandbox, timeout_cap_s=settings.tool_timeout_s),
        *notebook_tools(sandbox, mirror=notebook, max_bytes=settings.notebook_max_bytes),
        *scorer_tools(scorer, task, sandbox, should_stop),
        *(t for t in forum_side if role != "hacker" or t.name in FORUM_READ_TOOLS),
    ]
    return Toolbox(tools, settings.tool_output_chars)


@dataclass(frozen=True)
class Shared:
    """What every agent of a campaign run shares: the admin clients and URLs of the scorer and forum, the
    sandbox provider, and the task's inputs (JSON) and description."""

    scorer_admin: ScorerClient
    forum_admin: ForumClient
    scorer_url: str
    forum_url: str
    admin_token: str
    provider: SandboxProvider
    inputs_json: str
    description: str


@dataclass
class AgentRun:
    """One agent's moving parts inside a campaign."""

    plan: AgentPlan
    researcher: Researcher | None = None
    sandbox: Sandbox | None = None
    clients: list = field(default_factory=list)
    thread: threading.Thread | None = None
    outcome: str | None = None
    best_pgr: float | None = None
    inspection: str | None = None
    released: bool = False


class Campaign:
    """A campaign folder (``campaign.json``, ``transcripts/``, ``agents/``, ``report/``) and its run."""

    def __init__(self, folder: Path, plan: CampaignPlan, settings: AgentSettings, home: Path):
        self.folder, self.plan, self.home = folder, plan, home
        self.settings = settings.model_copy(update={"backend": plan.backend, "model": plan.model})
        self.prices = PriceTable.load(settings.price_table)
        self.prices.price(plan.model)  # fail early, naming the fix, when the model has no price
        self.ledger = CampaignLedger(plan.campaign_limits, started_at=plan.created_at)
        self.stop_event = threading.Event()
        self.runs: list[AgentRun] = []

    @property
    def stop_file(self) -> Path:
        return self.folder / "STOP"

    def should_stop(self) -> bool:
        if self.stop_file.exists():
            self.stop_event.set()
        return self.stop_event.is_set()

    # --- the run -----------------------------------------------------------------------------------

    def run(self, console: Console | None = None, live: bool = True) -> dict[str, str]:
        """Run every agent to its end; returns agent → end reason. Writes the report at the end."""
        from sandbox.registry import get_provider
        from workers.agent.campaign.report import write_report

        self.plan.save(self.folder)
        with ExitStack() as stack:
            stack.enter_context(self._stop_on_signals())
            stack.callback(self.stop_file.unlink, missing_ok=True)  # a stop request is spent by this run
            scorer_url, forum_url = self._services(stack, console)
            token = admin_token(self.home, self.settings.admin_token)
            scorer_admin = stack.enter_context(ScorerClient(scorer_url, token))
            forum_admin = stack.enter_context(ForumClient(forum_url, token))
            inputs = scorer_admin.task_inputs(self.plan.task)
            tasks = scorer_admin.tasks()
            shared = Shared(
                scorer_admin=scorer_admin,
                forum_admin=forum_admin,
                scorer_url=scorer_url,
                forum_url=forum_url,
                admin_token=token,
                provider=get_provider(self.plan.sandbox),
                inputs_json=inputs.model_dump_json(),
                description=next((t.description for t in tasks if t.name == self.plan.task), self.plan.task),
            )
            leftovers = shared.provider.sweep(self.plan.id)  # of an earlier run of this campaign that was killed
            if leftovers:
                log.warning("removed %d sandboxes an earlier run left", len(leftovers), extra={"ids": leftovers})
            for agent in self.plan.agents:
                run = AgentRun(agent)
                self.runs.append(run)
                state = load_state(self._transcript_path(agent))
                if state.ended and state.ended not in RESUMABLE:
                    run.outcome = state.ended
                    continue
                stack.callback(self._release, run)
                self._prepare(run, state, shared)
                run.thread = threading.Thread(target=self._agent_main, args=(run, state, shared), name=agent.name)
            for run in self.runs:
                if run.thread is not None:
                    run.thread.start()
            self._watch(scorer_admin, console, live)
            write_report(self.folder, self.plan, scorer_admin, forum_admin)
        return {run.plan.name: run.outcome or "not started" for run in self.runs}

    @contextmanager
    def _stop_on_signals(self) -> Iterator[None]:
        """SIGINT and SIGTERM (``docker compose down``, a Kubernetes pod's end) ask the run to stop: each agent
        ends its turn, its workspace is snapshotted and its sandbox removed, within the grace period that
        docker-compose.yml and the campaign Job set. Only the main thread can take signals."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, lambda *_: self.stop_event.set()) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _services(self, stack: ExitStack, console: Console | None) -> tuple[str, str]:
        if self.plan.scorer_url and self.plan.forum_url:
            return self.plan.scorer_url, self.plan.forum_url
        from services.common.localstack import LocalStack

        if console:
            console.print("starting the embedded scorer, worker and forum (SQLite, local queue)…")
        local = stack.enter_context(LocalStack(self.home, log_dir=self.folder / "logs"))
        try:
            local.start()
        except Exception:
            log.error("the local services did not start:\n%s", local.logs())
            raise
        return self.plan.scorer_url or local.scorer_url, self.plan.forum_url or local.forum_url

    def _transcript_path(self, agent: AgentPlan) -> Path:
        return self.folder / "transcripts" / f"{agent.name}.jsonl"

    def _agent_files(self, agent: AgentPlan) -> dict[str, Path]:
        """Host-side files of an agent: its sandbox record, workspace snapshot and notebook mirror."""
        base = self.folder / "agents" / agent.name
        return {
            "record": base.with_suffix(".json"),
            "snapshot": base.with_suffix(".workspace.tar.gz"),
            "notebook": base.with_suffix(".notebook.md"),
        }

    def _prepare(self, run: AgentRun, state, shared: Shared) -> None:
        """Tokens, sandbox (with the last workspace restored), tools, backend, budget, researcher."""
        agent, description = run.plan, shared.description
        scorer = ScorerClient(shared.scorer_url, shared.scorer_admin.issue_token(agent.name, agent.role).token)
        forum = ForumClient(shared.forum_url, shared.forum_admin.issue_token(agent.name).token)
        run.clients = [scorer, forum]
        network = NetworkPolicy(mode="allow", allow=self.plan.sandbox_allow) if self.plan.sandbox_allow else None
        hidden = [str(self.home), *(str(p) for p in label_data_paths())]
        spec = SandboxSpec(label=self.plan.id, hidden=hidden, **({"network": network} if network else {}))
        sandbox = run.sandbox = shared.provider.start(spec)
        files = self._agent_files(agent)
        self._workspace(agent, sandbox, files, shared)
        files["record"].parent.mkdir(parents=True, exist_ok=True)
        files["record"].write_text(json.dumps({"sandbox": sandbox.id, "provider": self.plan.sandbox}))
        transcript = Transcript(self._transcript_path(agent))
        backend = make_backend(
            self.settings,
            on_api_error=lambda error: transcript.write("api_error", **error),
            offline={
                "agent": agent.name,
                "direction": agent.direction,
                "seed": agent.seed,
                "max_experiments": self.plan.offline_experiments,
                "task": self.plan.task,
            },
            role=agent.role,
        )
        prompt = hacker_prompt if agent.role == "hacker" else system_prompt
        run.researcher = Researcher(
            name=agent.name,
            backend=backend,
            toolbox=agent_toolbox(
                self.settings, sandbox, files["notebook"], scorer, forum, self.plan.task, self.should_stop, agent.role
            ),
            system_prompt=prompt(
                agent=agent.name, task=self.plan.task, task_description=description, direction=agent.direction
            ),
            opening=lambda session: opening_message(
                session, read_notebook(sandbox, self.settings.notebook_max_bytes), agent.direction
            ),
            transcript=transcript,
            budget=Budget(self.plan.agent_limits, state.usage, state.started_at, self.ledger, agent.name),
            prices=self.prices,
            settings=self.settings,
            should_stop=self.should_stop,
        )

    def _workspace(self, agent: AgentPlan, sandbox: Sandbox, files: dict[str, Path], shared: Shared) -> None:
        """The workspace as the agent's last run left it (its snapshot), or a fresh one that keeps the notebook
        mirror (a crash lost the snapshot, or it could not be restored: the notebook then says why)."""
        lost = ""
        if files["snapshot"].exists():
            try:
                sandbox.restore(files["snapshot"])  # untrusted: scanned within bounds, unpacked in the sandbox
                return
            except SandboxError as exc:
                log.error("resuming %s: the workspace snapshot was not restored: %s", agent.name, exc)
                stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
                lost = f"\n## {stamp}\n[worker] The workspace of your last run could not be restored ({exc}).\n"
                sandbox.exec(["sh", "-c", 'rm -rf "$1"/* "$1"/.[!.]*', "sh", "/workspace"], timeout=300)
        sandbox.write_file("task/inputs.json", shared.inputs_json)
        sandbox.write_file("README.md", SANDBOX_README.format(task=self.plan.task, description=shared.description))
        limit = self.settings.notebook_max_bytes
        notebook = _read_capped(files["notebook"], limit) + lost
        if notebook:
            sandbox.write_file(NOTEBOOK, bound_notebook(notebook, limit))

    def _agent_main(self, run: AgentRun, state, shared: Shared) -> None:
        try:
            if run.researcher is None:
                raise RuntimeError(f"{run.plan.name}: no researcher was prepared")
            run.outcome = run.researcher.run(
                state,
                meta={
                    "direction": run.plan.direction,
                    "task": self.plan.task,
                    "campaign": self.plan.id,
                    "role": run.plan.role,
                },
            )
        except Exception as exc:  # recorded in the transcript by the loop; the other agents go on
            log.exception("agent %s crashed", run.plan.name)
            run.outcome = f"crashed: {type(exc).__name__}: {exc}"
        if run.outcome == "stopped":
            return  # the session goes on at the next run: inspected when it ends
        self._release(run)  # the workspace snapshot is part of the evidence
        self._inspect(run, shared)

    def _inspect(self, run: AgentRun, shared: Shared) -> None:
        """The inspector's verdict on an agent whose session ended (its own clients: this is its thread)."""
        from workers.agent.campaign.inspection import inspect_agent

        try:
            with (
                ScorerClient(shared.scorer_url, shared.admin_token) as scorer,
                ForumClient(shared.forum_url, shared.admin_token) as forum,
            ):
                run.inspection = inspect_agent(self.folder, self.plan, run.plan, scorer, forum, self.settings).verdict
        except Exception:  # the campaign goes on; ``aar campaign inspect`` runs it again
            log.exception("could not inspect %s", run.plan.name)

    def _release(self, run: AgentRun) -> None:
        """Close the agent's clients and transcript; snapshot its workspace (for a resume and the inspector),
        stop its sandbox. Once per run: the agent's thread releases at its end, the campaign's exit again."""
        if run.released:
            return
        run.released = True
        for client in run.clients:
            client.close()
        if run.researcher is not None:
            run.researcher.transcript.close()
        if run.sandbox is not None:
            try:
                run.sandbox.snapshot(self._agent_files(run.plan)["snapshot"])
            except Exception as exc:  # the notebook mirror still holds the agent's memory
                log.error("could not snapshot the workspace of %s (it is deleted all the same): %s", run.plan.name, exc)
            finally:
                run.sandbox.discard()  # the workspace image goes, whatever became of the snapshot

    # --- live view ---------------------------------------------------------------------------------

    def _watch(self, scorer_admin: ScorerClient, console: Console | None, live: bool) -> None:
        """Wait for every agent, refreshing the live table (and the verified scores every few seconds)."""
        threads = [r.thread for r in self.runs if r.thread is not None]
        last_poll = 0.0
        display = Live(self.table(), console=console, refresh_per_second=2) if live and console else None
        with display or ExitStack():
            while any(t.is_alive() for t in threads):
                self.should_stop()
                if time.monotonic() - last_poll > 5:
                    self._poll_scores(scorer_admin)
                    last_poll = time.monotonic()
                if display:
                    display.update(self.table())
                time.sleep(0.5)
            self._poll_scores(scorer_admin)
            if display:
                display.update(self.table())

    def _poll_scores(self, scorer_admin: ScorerClient) -> None:
        try:
            board = {e.agent: e.pgr for e in scorer_admin.leaderboard(self.plan.task).entries}
        except Exception:  # the table shows the last known scores
            return
        for run in self.runs:
            run.best_pgr = board.get(run.plan.name, run.best_pgr)

    def table(self) -> Table:
        """Per agent: status, calls, best verified PGR, spend and $/agent-hour."""
        total = self.ledger.total()
        table = Table(
            "agent",
            "direction",
            "status",
            "calls",
            "tools",
            "best PGR",
            "cost $",
            "$/agent-h",
            "inspection",
            title=plain(
                f"campaign {self.plan.id} on {self.plan.task} ({self.settings.resolved_backend()}): "
                f"${total.cost_usd:.2f} spent"
            ),
        )
        for run in self.runs:
            r = run.researcher
            usage = r.budget.usage if r else None
            table.add_row(  # names, directions, statuses and end reasons can hold model text: never markup
                plain(run.plan.name.removeprefix(f"{self.plan.id}-"))
                + (" (hacker)" if run.plan.role == "hacker" else ""),
                plain(run.plan.direction.split(":")[0][:24]),
                plain((run.outcome or (r.status if r else "-"))[:32]),
                str(usage.model_calls) if usage else "-",
                str(usage.tool_calls) if usage else "-",
                "—" if run.best_pgr is None else f"{run.best_pgr:.2f}",
                f"{usage.cost_usd:.2f}" if usage else "-",
                f"{r.budget.dollars_per_hour():.2f}" if r else "-",
                run.inspection or "-",
            )
        return table


def _read_capped(path: Path, limit: int) -> str:
    """A host file's text, at most about ``limit`` bytes of it (its head and tail); '' when it is missing."""
    try:
        with open(path, "rb") as f:
            head = f.read(limit + 1)
            if len(head) <= limit:
                return head.decode("utf-8", errors="replace")
            f.seek(-limit // 2, 2)
            return bound_notebook((head[: limit // 2] + b"\n" + f.read()).decode("utf-8", errors="ignore"), limit)
    except FileNotFoundError:
        return ""
