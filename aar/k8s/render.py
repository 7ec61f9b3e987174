"""Render a kustomize overlay offline with the kustomize Go API (``pykustomize``: no binary, no cluster)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2] / "k8s"  # the repository's k8s/ (editable install or source tree)
OVERLAYS = ("cpu", "gpu")
EXAMPLES = ("external-postgres",)
INSTALL_HINT = "pip install --no-deps --ignore-requires-python pykustomize==0.1.4  (see k8s/README.md)"


class RenderError(RuntimeError):
    """The overlay does not build, or the renderer is not installed."""


def overlay_path(overlay: str | Path, root: Path = ROOT) -> Path:
    """``cpu``/``gpu`` → ``k8s/overlays/<name>``, ``external-postgres`` → ``k8s/examples/...``; else a path."""
    name = str(overlay)
    if name in OVERLAYS:
        return root / "overlays" / name
    if name in EXAMPLES:
        return root / "examples" / name
    path = Path(overlay)
    if not (path / "kustomization.yaml").is_file():
        raise RenderError(f"{overlay}: not an overlay name ({', '.join(OVERLAYS + EXAMPLES)}) or kustomization folder")
    return path


def render_yaml(overlay: str | Path) -> str:
    """What ``kubectl kustomize`` (``kustomize build``) prints for ``overlay``."""
    try:
        import pykustomize
    except ImportError as exc:
        raise RenderError(f"the kustomize renderer is missing: {INSTALL_HINT}") from exc
    path = overlay_path(overlay)
    try:
        return asyncio.run(pykustomize.build(str(path.resolve()))).yaml
    except pykustomize.KustomizeError as exc:
        raise RenderError(f"kustomize build {path}: {exc}") from exc


def render(overlay: str | Path) -> list[dict]:
    """The rendered objects of ``overlay``, in kustomize's order."""
    return [doc for doc in yaml.safe_load_all(render_yaml(overlay)) if doc]
