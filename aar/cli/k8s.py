"""``aar k8s``: render the kustomize overlays and validate them offline (no kubectl, no cluster)."""

from __future__ import annotations

from typing import Annotated

import typer

from aar.cli.common import console

app = typer.Typer(help="Kubernetes manifests: render and validate the k8s/ overlays offline.", no_args_is_help=True)

OverlayOpt = Annotated[str, typer.Option("--overlay", help="cpu, gpu, external-postgres, or a kustomization folder.")]


@app.command()
def render(overlay: OverlayOpt = "gpu") -> None:
    """Print the rendered manifests (what `kubectl apply -k` would send)."""
    from aar.k8s.render import RenderError, render_yaml

    try:
        typer.echo(render_yaml(overlay), nl=False)
    except RenderError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(1) from None


@app.command()
def validate(
    ctx: typer.Context,
    overlay: Annotated[list[str] | None, typer.Option("--overlay", help="Repeatable; default: all.")] = None,
) -> None:
    """Schemas (strict), Pod Security per namespace, probes, resources, references, env names, seccomp."""
    from aar.k8s.checks import known_env_names, problems
    from aar.k8s.render import EXAMPLES, OVERLAYS, RenderError, render
    from aar.k8s.schema import KUBE_VERSIONS, schema_errors

    known_env = known_env_names(ctx.find_root().command)
    failed = False
    for name in overlay or OVERLAYS + EXAMPLES:
        try:
            objects = render(name)
        except RenderError as exc:
            console.print(f"[bold red]error:[/] {exc}")
            failed = True
            continue
        found = schema_errors(objects) + problems(objects, known_env)
        failed = failed or bool(found)
        status = "[green]ok[/]" if not found else f"[red]{len(found)} problem(s)[/]"
        console.print(f"{name}: {len(objects)} objects, schemas {'/'.join(KUBE_VERSIONS)}: {status}")
        for line in found:
            console.print(f"  - {line}", markup=False, highlight=False)
    if failed:
        raise typer.Exit(1)
