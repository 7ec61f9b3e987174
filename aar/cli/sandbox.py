"""``aar sandbox``: build the sandbox image, check a provider, sweep a run's sandboxes."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer
from rich.table import Table

from aar.cli.common import console, out, run_image_build
from services.common.terminal import plain

app = typer.Typer(help="Sandboxes: image, provider checks, cleanup.", no_args_is_help=True)

ProviderOpt = Annotated[str | None, typer.Option("--provider", "-p", help="bwrap or docker (default: auto).")]


def _provider(name: str | None):
    from sandbox import SandboxUnavailableError, get_provider

    try:
        provider = get_provider(name)
        provider.check()
    except (SandboxUnavailableError, ValueError) as exc:
        console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from None
    return provider


@app.command("build-image")
def build_image() -> None:
    """Build aar-sandbox:latest with no registry (debootstrap + docker import + local wheelhouse)."""
    from sandbox.image.build import build

    tag = run_image_build(build)
    out.print(f"built {tag} (tagged aar-sandbox:latest)")


@app.command()
def sweep(
    label: Annotated[str, typer.Option("--label", "-l", help="Run label to clean up.")], provider: ProviderOpt = None
) -> None:
    """Remove every sandbox of a run label: processes, containers, networks, mounts, cgroups."""
    removed = _provider(provider).sweep(label)
    out.print(f"swept {len(removed)} sandbox(es) of {label!r}" + (f": {', '.join(removed)}" if removed else ""))


@app.command()
def check(provider: ProviderOpt = None) -> None:
    """Show what a provider enforces here, then run the conformance suite against it."""
    from sandbox.conformance import run_conformance

    chosen = _provider(provider)
    caps = chosen.capabilities()
    table = Table(title=f"{chosen.name}: isolation enforced on this machine")
    for column in ("property", "enforced", "note"):
        table.add_column(column)
    for name, enforced in caps.enforced.items():
        table.add_row(name, "[green]yes[/]" if enforced else "[red]no[/]", caps.notes.get(name, ""))
    out.print(table)
    label = f"check-{uuid.uuid4().hex[:8]}"
    with console.status("running the conformance suite"):
        results = run_conformance(chosen, label)
        chosen.sweep(label)
    table = Table(title=f"{chosen.name}: conformance")
    table.add_column("check")
    table.add_column("result")
    for name, result in results.items():
        table.add_row(name, "[green]ok[/]" if result == "ok" else plain(result, style="red"))  # may quote the sandbox
    out.print(table)
    failed = sum(result != "ok" for result in results.values())
    out.print(f"{len(results) - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)
