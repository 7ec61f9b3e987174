"""Each doc's layout table matches the tree: every module it names exists, and every module of the package is
named (a doc whose title names its package, e.g. ``# The scorer (`services/scorer/`)``, with a ``## Layout`` table)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").glob("*.md"))


def _layout(doc: Path) -> tuple[Path, list[str]] | None:
    text = doc.read_text()
    title = re.match(r"# .*\(`([\w/]+)/`\)", text)
    section = re.search(r"^## Layout\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    if not title or not section:
        return None
    cells = [line.split("|")[1] for line in section.group(1).splitlines() if line.startswith("| `")]
    return ROOT / title.group(1), [name for cell in cells for name in re.findall(r"`([\w./]+)`", cell)]


LAYOUTS = {doc.name: layout for doc in DOCS if (layout := _layout(doc))}


def test_the_packages_with_a_documented_layout_are_found():
    assert {"agents.md", "forum.md", "scorer.md", "w2s-engine.md"} <= set(LAYOUTS)


@pytest.mark.parametrize("doc", sorted(LAYOUTS))
def test_every_module_named_exists(doc):
    package, names = LAYOUTS[doc]
    missing = [n for n in names if not (package / n).exists()]
    assert not missing, f"{doc} names modules that are not under {package.relative_to(ROOT)}: {missing}"


@pytest.mark.parametrize("doc", sorted(LAYOUTS))
def test_every_module_is_named(doc):
    package, names = LAYOUTS[doc]
    named = {n.rstrip("/").split("/")[0] for n in names}
    modules = {
        p.name
        for p in package.iterdir()
        if (p.suffix == ".py" and p.name != "__init__.py") or (p.is_dir() and (p / "__init__.py").exists())
    }
    unnamed = sorted(m for m in modules if m not in named and m.removesuffix(".py") not in named)
    assert not unnamed, f"{doc}'s layout table leaves out {unnamed} of {package.relative_to(ROOT)}"
