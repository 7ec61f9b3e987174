"""Console, progress and error handling shared by the CLI commands."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from services.common.terminal import plain

console = Console(stderr=True)  # progress, warnings and errors
out = Console()  # results


def quiet_libraries() -> None:
    """Keep model-loading chatter out of the user's terminal."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    for name in ("sentence_transformers", "transformers", "httpx"):
        logging.getLogger(name).setLevel(logging.ERROR)


def serve_api(factory: str, db_url: str, upgrade: Callable[[str], None], host: str, port: int, workers: int) -> None:
    """Migrate ``db_url`` with ``upgrade``, then serve the app that ``factory`` (``module:function``) builds."""
    import uvicorn

    from services.common.http_server import server_options
    from services.common.logging import configure_json_logging

    quiet_libraries()
    configure_json_logging()
    upgrade(db_url)
    uvicorn.run(
        factory,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=True,
        **server_options(),
    )


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn engine errors into a one-line message and exit code 2."""
    from w2s.errors import W2SError

    try:
        yield
    except W2SError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from None


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def service_client(client_cls, url: str, token: str, token_env: str):
    """A typed service client, or exit 2 when no token was given."""
    if not token:
        console.print(f"[bold red]error:[/] set {token_env} or pass --token")
        raise typer.Exit(2)
    return client_cls(url, token)


def guard(fn, service: str):
    """Call ``fn``; a 4xx/5xx from the service or an unreachable service becomes one line and exit 1."""
    from services.common.client import ServiceError

    try:
        return fn()
    except ServiceError as exc:  # its message can quote what an agent wrote: printed as plain text
        console.print("[bold red]error:[/]", plain(exc))
        raise typer.Exit(1) from None
    except OSError as exc:
        console.print("[bold red]error:[/]", plain(f"cannot reach the {service}: {exc}"))
        raise typer.Exit(1) from None


def run_image_build(build) -> str:
    """Run an image ``build(on_step, on_line)`` under a live display: a row per stage (cached, built) with
    its latest log line; a failure is one error line and exit code 1. Returns what ``build`` returns."""
    from rich.progress import SpinnerColumn, TaskID

    from sandbox.image.stages import BuildError

    columns = (
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.fields[line]}"),
        TimeElapsedColumn(),
    )
    tasks: dict[str, TaskID] = {}
    with Progress(*columns, console=console) as progress:

        def on_step(step, state: str) -> None:
            if step.name not in tasks:
                tasks[step.name] = progress.add_task(step.name, total=1, line="")
            if state != "building":
                progress.update(tasks[step.name], completed=1, line=f"[green]{state}[/] {step.tag}")

        def on_line(line: str) -> None:
            if tasks:
                progress.update(list(tasks.values())[-1], line=line.strip()[:70])

        try:
            return build(on_step, on_line)
        except (BuildError, FileNotFoundError) as exc:
            console.print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(1) from None
