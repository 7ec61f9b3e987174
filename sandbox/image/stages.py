"""Docker images built with no registry, in cached stages: the machinery shared by the sandbox image
(``sandbox/image/build.py``) and the service images (``aar/images.py``).

A stage is a name, the tag it produces and a function that makes it. Tags are hashes of the stage's
inputs, so an unchanged stage is reused. Bases come from ``debootstrap --variant=minbase`` turned
into an image with ``docker import``; later stages are ``docker build``s with ``--network none`` over
a context assembled in a scratch folder (large folders are hard-linked, not copied).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.settings import SandboxSettings

Log = Callable[[str], None]
SUITE = "bookworm"


class BuildError(RuntimeError):
    """A build step failed; the message says which and where its log is."""


@dataclass(frozen=True)
class Step:
    """One stage: a name, the tag it produces and how to make it."""

    name: str
    tag: str
    make: Callable[[Log], None]


def digest(*parts: bytes) -> str:
    """A short hash of the parts (each hashed apart, so their boundaries count)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:12]


def tree_bytes(root: Path) -> bytes:
    """Every file under ``root`` (names and contents), for hashing."""
    files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return b"".join(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() for p in files)


def mirror() -> str:
    """The Debian mirror debootstrap uses (``AAR_SANDBOX_MIRROR``)."""
    return SandboxSettings().mirror


def image_exists(tag: str) -> bool:
    """Whether the local engine has ``tag``."""
    return subprocess.run(["docker", "image", "inspect", tag], capture_output=True).returncode == 0


def run_logged(argv: list[str], log: Log, log_path: Path, **kw: Any) -> None:
    """Run ``argv``, passing each output line to ``log``; ``BuildError`` naming ``log_path`` on failure."""
    log(f"$ {' '.join(argv)}")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    assert proc.stdout is not None
    for line in proc.stdout:
        log(line.rstrip())
    if proc.wait() != 0:
        raise BuildError(f"`{argv[0]} {argv[1]}` failed (exit {proc.returncode}); see {log_path}")


def debootstrap_image(tag: str, include: str, build_dir: Path) -> Callable[[Log], None]:
    """A stage that makes ``tag`` from a minbase Debian root filesystem with the ``include``d packages."""

    def make(log: Log) -> None:
        rootfs = build_dir / f"rootfs-{tag.replace(':', '-').replace('/', '-')}"
        shutil.rmtree(rootfs, ignore_errors=True)
        log_path = build_dir / "build.log"
        run_logged(
            ["debootstrap", "--variant=minbase", f"--include={include}", SUITE, str(rootfs), mirror()], log, log_path
        )
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        try:
            run_logged(["docker", "import", "--change", "ENV LANG=C.UTF-8", "-", tag], log, log_path, stdin=tar.stdout)
        finally:
            tar.wait()
            shutil.rmtree(rootfs, ignore_errors=True)

    return make


def docker_build(
    dockerfile: Path,
    tag: str,
    args: dict[str, str],
    files: dict[str, Path],
    build_dir: Path,
    log: Log,
    target: str | None = None,
) -> None:
    """``docker build --network none`` of ``dockerfile`` over a context holding ``files`` (name → source)."""
    ctx = build_dir / f"ctx-{tag.replace(':', '-').replace('/', '-')}"
    shutil.rmtree(ctx, ignore_errors=True)
    ctx.mkdir(parents=True)
    shutil.copy(dockerfile, ctx / "Dockerfile")
    for name, src in files.items():
        dest = ctx / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():  # hard links where possible: wheelhouses are large
            shutil.copytree(src, dest, copy_function=_link_or_copy, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, dest)
    argv = ["docker", "build", "--network", "none", "-t", tag]
    for key, value in args.items():
        argv += ["--build-arg", f"{key}={value}"]
    argv += ["--target", target] if target else []
    try:
        run_logged([*argv, str(ctx)], log, build_dir / "build.log")
    finally:
        shutil.rmtree(ctx, ignore_errors=True)


def _link_or_copy(src: str, dest: str) -> None:
    try:
        os.link(src, dest)
    except OSError:  # another file system
        shutil.copy2(src, dest)


def check_tools(*tools: str) -> None:
    """``FileNotFoundError`` naming the first missing tool."""
    for tool in tools:
        if shutil.which(tool) is None:
            raise FileNotFoundError(f"{tool} is not installed (apt-get install -y docker.io debootstrap)")


def run_steps(steps: list[Step], build_dir: Path, on_step: Callable[[Step, str], None], on_line: Log) -> None:
    """Make every step whose tag is missing, in order; ``on_step`` hears ``cached``, ``building``, ``done``."""
    build_dir.mkdir(parents=True, exist_ok=True)
    with open(build_dir / "build.log", "a") as logfile:

        def log(line: str) -> None:
            logfile.write(line + "\n")
            on_line(line)

        for step in steps:
            if image_exists(step.tag):
                on_step(step, "cached")
                continue
            on_step(step, "building")
            step.make(log)
            on_step(step, "done")
