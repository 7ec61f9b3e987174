"""A checkout or virtualenv under /tmp (a CI clone, say) stays visible over the sandbox's own fresh /tmp."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from sandbox.conformance import conformance_spec
from sandbox.providers import bwrap

from .conftest import make_provider


@pytest.fixture
def tmp_root():
    """A folder directly under /tmp holding one file, standing in for a checkout there."""
    with tempfile.TemporaryDirectory(dir="/tmp", prefix="aar-checkout-") as folder:
        Path(folder).chmod(0o755)  # a checkout is world-readable; mkdtemp makes 0700
        (Path(folder) / "marker.txt").write_text("checkout")
        yield Path(folder)


def test_a_python_root_under_tmp_is_bound_over_the_fresh_tmp(tmp_root, sandbox_root, label, monkeypatch):
    roots = bwrap.python_roots()
    monkeypatch.setattr(bwrap, "python_roots", lambda: [*roots, tmp_root])
    with make_provider("bwrap", sandbox_root).start(conformance_spec(label)) as sb:
        assert sb.exec(["cat", str(tmp_root / "marker.txt")]).stdout == "checkout"
        assert sb.exec(["touch", str(tmp_root / "new")]).exit_code != 0  # read-only
        assert sb.exec(["touch", "/tmp/scratch"]).success  # and /tmp itself is the sandbox's own
    assert not (tmp_root / "new").exists()
