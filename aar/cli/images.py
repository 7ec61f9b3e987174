"""``aar images build``: every image of the compose stack and the sandbox, with no registry."""

from __future__ import annotations

import typer

from aar.cli.common import out, run_image_build

app = typer.Typer(
    help="Container images, built without a registry (debootstrap + local wheelhouse).", no_args_is_help=True
)


@app.command()
def build() -> None:
    """Build the missing bases, the runtime image (aar-runtime) and the sandbox image (aar-sandbox)."""
    from aar.images import build as build_images

    tag = run_image_build(build_images)
    out.print(f"runtime image {tag} (tagged aar-runtime:latest); sandbox image aar-sandbox:latest")
