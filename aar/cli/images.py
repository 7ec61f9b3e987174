"""``aar images build``: every image of the compose stack and the sandbox, with no registry."""

from __future__ import annotations

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from aar.cli.common import console, out

app = typer.Typer(help="Container images, built without a registry (debootstrap + local wheelhouse).",
                  no_args_is_help=True)  # fmt: skip


@app.command()
def build() -> None:
    """Build the missing bases, the runtime image (aar-runtime) and the sandbox image (aar-sandbox)."""
    from aar.images import build as build_images
    from sandbox.image.stages import BuildError

    columns = (SpinnerColumn(), TextColumn("[bold]{task.description}"), TextColumn("{task.fields[line]}"),
               TimeElapsedColumn())  # fmt: skip
    tasks: dict[str, int] = {}
    with Progress(*columns, console=console) as progress:
        current = progress.add_task("wheelhouse", total=1, line="")
        tasks["wheelhouse"] = current

        def on_step(step, state: str) -> None:
            progress.update(tasks["wheelhouse"], completed=1)
            if step.name not in tasks:
                tasks[step.name] = progress.add_task(step.name, total=1, line="")
            if state != "building":
                progress.update(tasks[step.name], completed=1, line=f"[green]{state}[/] {step.tag}")

        def on_line(line: str) -> None:
            progress.update(list(tasks.values())[-1], line=line.strip()[:70])

        try:
            tag = build_images(on_step, on_line)
        except (BuildError, FileNotFoundError) as exc:
            console.print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(1) from None
    out.print(f"runtime image {tag} (tagged aar-runtime:latest); sandbox image aar-sandbox:latest")
