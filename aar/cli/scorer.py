"""``aar scorer``: run the API and worker, and talk to a running scorer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from aar.cli.common import console, fmt, guard, out, quiet_libraries, serve_api, service_client
from aar.settings import CliSettings
from aar_core.settings import DEFAULT_SCORER_URL, SCORER_PORT
from services.common.terminal import plain

app = typer.Typer(help="The scoring service: API, worker and client commands.", no_args_is_help=True)

UrlOpt = Annotated[str, typer.Option("--url", envvar="AAR_SCORER_URL", help="Scorer base URL.")]
TokenOpt = Annotated[str, typer.Option("--token", envvar="AAR_SCORER_TOKEN", help="Agent or admin token.")]


@app.command()
def api(
    host: str = "127.0.0.1",
    port: int = SCORER_PORT,
    workers: Annotated[int, typer.Option(min=1, envvar="AAR_SCORER_API_WORKERS", help="uvicorn processes")] = 1,
) -> None:
    """Serve the REST API (migrates the database first)."""
    from services.scorer.config import get_settings
    from services.scorer.db.migrate import upgrade

    serve_api("services.scorer.api.app:serve", get_settings().db_url, upgrade, host, port, workers)


@app.command()
def worker(loglevel: str = "INFO") -> None:
    """Consume scoring jobs (one process; run one per GPU)."""
    from services.common.logging import configure_json_logging
    from services.scorer.worker.main import run_worker

    quiet_libraries()
    configure_json_logging(loglevel)
    run_worker(loglevel)


@app.command()
def migrate() -> None:
    """Bring the scorer database to the latest schema."""
    from services.scorer.config import get_settings
    from services.scorer.db.migrate import upgrade

    upgrade(get_settings().db_url)
    console.print("scorer database is at head")


def _client(url: str, token: str):
    from services.scorer.client import ScorerClient

    return service_client(ScorerClient, url, token, "AAR_SCORER_TOKEN")


def _guard(fn):
    return guard(fn, "scorer")


@app.command()
def submit(
    task: Annotated[str, typer.Option("--task")],
    method: Annotated[Path | None, typer.Option("--method", help="A method .py file.")] = None,
    predictions: Annotated[Path | None, typer.Option("--predictions", help="JSON {item_id: probability}.")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Poll until the submission finishes.")] = False,
    url: UrlOpt = DEFAULT_SCORER_URL,
    token: TokenOpt = "",
) -> None:
    """Submit a method file or a predictions file; prints the submission id."""
    path = method or predictions
    if path is None or (method is not None and predictions is not None):
        console.print("[bold red]error:[/] give exactly one of --method or --predictions")
        raise typer.Exit(2)
    source = path.read_text()
    with _client(url, token) as client:
        if method is not None:
            accepted = _guard(lambda: client.submit_method(task, source))
        else:
            accepted = _guard(lambda: client.submit_predictions(task, json.loads(source)))
        out.print(accepted.id)
        if wait:
            with console.status("queued") as line:
                sub = _guard(
                    lambda: client.wait(accepted.id, timeout=3600, on_progress=lambda s: line.update(_where(s)))
                )
            _print_submission(sub)


def _where(sub) -> str:
    """One line of a waiting submission's progress: its place in the queue, or the run it is on."""
    progress = sub.progress
    if sub.status == "queued" and progress and progress.queue_position:
        return f"queued: {progress.queue_position} in the queue"
    if sub.status == "running" and progress and progress.run:
        return f"running: run {progress.run} of {progress.runs}"
    return sub.status


def _print_submission(sub) -> None:
    result = sub.result
    out.print(
        plain(  # the error is the method's own report
            json.dumps(sub.model_dump(mode="json"), indent=2)
            if CliSettings().json_output
            else f"{sub.id} {sub.status} pgr={fmt(result.pgr if result else None)} flags={','.join(sub.flags) or '-'}"
            + (f" error={sub.error}" if sub.error else "")
        )
    )


@app.command()
def status(submission_id: str, url: UrlOpt = DEFAULT_SCORER_URL, token: TokenOpt = "") -> None:
    """Show one submission (set AAR_JSON=1 for JSON)."""
    with _client(url, token) as client:
        _print_submission(_guard(lambda: client.submission(submission_id)))


@app.command()
def leaderboard(
    task: Annotated[str, typer.Option("--task")], url: UrlOpt = DEFAULT_SCORER_URL, token: TokenOpt = ""
) -> None:
    """Server-computed ladder scores for a task."""
    with _client(url, token) as client:
        board = _guard(lambda: client.leaderboard(task))
    table = Table(
        "agent",
        "PGR (ladder)",
        "private PGR",
        "flags",
        "submission",
        title=f"{board.task}" + (" (final)" if board.finalised else ""),
    )
    for e in board.entries:
        table.add_row(plain(e.agent), fmt(e.pgr), fmt(e.private_pgr), ",".join(e.flags) or "-", e.submission_id)
    out.print(table)


@app.command()
def quota(url: UrlOpt = DEFAULT_SCORER_URL, token: TokenOpt = "") -> None:
    """What the calling agent has left today."""
    with _client(url, token) as client:
        q = _guard(client.quota)
    out.print(
        f"submissions {q.submissions_used}/{q.submissions_per_day}, compute seconds "
        f"{q.compute_seconds_used:.0f}/{q.compute_seconds_per_day:.0f}, resets {q.resets_at.isoformat()}"
    )


redteam = typer.Typer(help="The red-team corpus: hackers' findings as regression cases.", no_args_is_help=True)
app.add_typer(redteam, name="redteam")
CORPUS = Path("tests/services/scorer/redteam/cases")


@redteam.command("export")
def redteam_export(
    campaign: Annotated[str, typer.Argument(help="A campaign id under $AAR_HOME/campaigns.")],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help=f"The corpus folder (default: {CORPUS}, from the repository root).")
    ] = None,
) -> None:
    """Write every unflagged attack of the campaign's hackers (its ``attacks.json``) as an open case of the
    red-team corpus, which CI replays: a finding, until its fix closes it."""
    from aar.cli.campaign import campaigns_dir
    from services.scorer.contract import AttackList
    from services.scorer.corpus import export_finding
    from workers.agent.campaign.report import ATTACKS_FILE

    folder = out_dir or CORPUS
    if out_dir is None and not CORPUS.is_dir():
        console.print(f"[bold red]error:[/] {CORPUS} is not here: run from the repository root or pass --out")
        raise typer.Exit(2)
    source = campaigns_dir() / Path(campaign).name / "report" / ATTACKS_FILE
    if not source.is_file():
        console.print(f"[bold red]error:[/] {source} is missing: the campaign has no hackers or has not ended")
        raise typer.Exit(2)
    attacks = AttackList.model_validate_json(source.read_text()).data
    findings = [a for a in attacks if a.verdict == "unflagged"]
    table = Table("case", "hacker", "task", "public PGR", "private PGR", "description", title=f"findings of {campaign}")
    for attack in findings:
        name = export_finding(folder, Path(campaign).name, attack)
        table.add_row(
            name,
            plain(attack.agent),
            attack.task,
            fmt(attack.public_pgr),
            fmt(attack.private_pgr),
            plain(attack.description[:60]),
        )
    out.print(table)
    out.print(f"{len(findings)} of {len(attacks)} attacks were unflagged; written to {folder}")
