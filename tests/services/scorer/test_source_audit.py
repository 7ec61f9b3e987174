"""The source audit at intake (issue 24): methods carry code, not data. Every built-in and every method the
offline researcher writes passes; the ways a method could carry a dataset's labels are caught, each by
the measure named in its finding."""

from __future__ import annotations

import base64
import hashlib
import random
import zlib
from pathlib import Path

import pytest

import w2s.methods.builtin as builtin
from services.scorer.source_audit import audit
from workers.agent.backends.offline import search_space, source
from workers.agent.search import Search

rng = random.Random(0)
ITEMS = [(f"snippet number {i} about a film", rng.randint(0, 1)) for i in range(3000)]
PACKED = "".join(hashlib.sha1(t.encode()).hexdigest()[:6] + str(y) for t, y in ITEMS)
RUN = "\ndef run(ctx):\n    return ctx.train_student().predict_proba(ctx.targets)\n"


@pytest.mark.parametrize("path", sorted(Path(builtin.__file__).parent.glob("*.py")), ids=lambda p: p.stem)
def test_every_builtin_passes(path):
    assert audit(path.read_text())["findings"] == []


def test_the_offline_researchers_methods_pass():
    """Every family of the offline researcher's search space, at random parameters."""
    search = Search(search_space())
    for family in search.space:
        for _ in range(5):
            assert audit(source(search.draw(family, rng)))["findings"] == [], family


def chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def variants() -> dict[str, tuple[str, str]]:
    """Ways to carry 3,000 labels in a method's source, and the measure that must catch each."""
    blob = base64.b64encode(zlib.compress(PACKED.encode())).decode()
    table = {k[:6]: int(k[6]) for k in chunks(PACKED, 7)}
    pieces = "".join(f"    {c!r},\n" for c in chunks(PACKED, 21))
    names = "".join(f"def f_{c}(): pass\n" for c in chunks(PACKED, 7)[:1000])
    comments = "# " + "\n# ".join(chunks(PACKED, 70)[:50]) + "\nSOURCE = open(__file__).read()\n"
    return {
        "one packed literal": (f"LABELS = {PACKED!r}\n" + RUN, "largest literal"),
        "a dict of hashed texts": (f"LABELS = {table!r}\n" + RUN, "numeric constants"),
        "many short literals": (f"PARTS = [\n{pieces}]\n" + RUN, "encoded-looking"),
        "zlib + base64": (f"BLOB = {blob!r}\n" + RUN, "encoded-looking"),
        "a list of bits": (f"BITS = {[y for _, y in ITEMS]!r}\n" + RUN, "numeric constants"),
        "bytes": (f"RAW = {zlib.compress(PACKED.encode())!r}\n" + RUN, "largest literal"),
        "names": (names + RUN, "distinct names"),
        "comments read back": (comments + RUN, "own source"),
    }


VARIANTS = variants()


@pytest.mark.parametrize("name", list(VARIANTS))
def test_labels_carried_in_the_source_are_caught(name):
    source, measure = VARIANTS[name]
    findings = audit(source)["findings"]
    assert any(measure in f for f in findings), findings


def test_an_unparsable_source_is_left_to_fail_at_run_time():
    assert audit("def run(ctx:\n")["findings"] == []
