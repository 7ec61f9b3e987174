"""The source audit's catch rate: every case of the red-team corpus, ways of carrying a dataset's labels
(plain and obfuscated), and the honest sources it must pass (every built-in, every family of the offline
researcher at random parameters). Prints a table; copy the numbers into docs/benchmarks.md.

    .venv/bin/python -m bench.source_audit
"""

from __future__ import annotations

import base64
import hashlib
import random
import zlib
from pathlib import Path

from rich.console import Console
from rich.table import Table

RUN = "\ndef run(ctx):\n    return ctx.train_student().predict_proba(ctx.targets)\n"
WORDS = ("good", "bad")


def carriers(packed: str, bits: list[int]) -> dict[str, str]:
    """Ways to carry labels in a source, from the blunt to the obfuscated."""
    chunks = [packed[i : i + 7] for i in range(0, len(packed), 7)]
    pieces = "".join(f"    {packed[i : i + 21]!r},\n" for i in range(0, len(packed), 21))
    blob = base64.b64encode(zlib.compress(packed.encode())).decode()
    words = " ".join(WORDS[b] for b in bits)
    spaced = " ".join(packed[i : i + 3] for i in range(0, len(packed), 3))
    sentences = "\n".join(f"    {' '.join(WORDS[b] for b in bits[i : i + 12])!r}," for i in range(0, len(bits), 12))
    return {
        "one packed literal (hash + label)": f"LABELS = {packed!r}\n",
        "a dict of hashed texts": f"LABELS = { {c[:6]: int(c[6]) for c in chunks}!r}\n",
        "short literals (21 characters each)": f"PARTS = [\n{pieces}]\n",
        "zlib + base64 blob": f"BLOB = {blob!r}\n",
        "a list of 0/1": f"BITS = {bits!r}\n",
        "bytes literal": f"RAW = {zlib.compress(packed.encode())!r}\n",
        "identifiers (def f_<hash><label>)": "".join(f"def f_{c}(): pass\n" for c in chunks),
        "comments read back through __file__": "# "
        + "\n# ".join(packed[i : i + 70] for i in range(0, len(packed), 70))
        + "\nSOURCE = open(__file__).read()\n",
        "hex split by spaces (3 characters)": f"TEXT = {spaced!r}\n",
        "words in one literal (good/bad per bit)": f"TEXT = {words!r}\n",
        "words over many literals (12 per line)": f"TEXT = [\n{sentences}\n]\n",
    }


def main() -> None:
    import w2s.methods.builtin as builtin
    from services.scorer.source_audit import audit
    from tests.services.scorer.redteam.harness import case_names, load_case
    from w2s.datasets import load_dataset
    from workers.agent.backends.offline import search_space, source
    from workers.agent.search import Search

    table = Table("source", "items carried", "characters", "flagged", "by", title="source audit at intake")
    reference = {f"text {i}": 0.7 for i in range(5000)}
    for name in case_names():
        case = load_case(name, reference)
        found = audit(case.source)["findings"]
        table.add_row(f"corpus: {name}", "-", str(len(case.source)), "yes" if found else "no", "; ".join(found)[:60])
    examples = load_dataset("rt-polarity").examples
    rng = random.Random(0)
    for n in (500, 3764, 10000):
        chosen = rng.sample(examples, min(n, len(examples)))
        packed = "".join(hashlib.sha1(e.text.encode()).hexdigest()[:6] + str(e.label) for e in chosen)
        for label, text in carriers(packed, [e.label for e in chosen]).items():
            found = audit(text + RUN)["findings"]
            table.add_row(label, str(len(chosen)), str(len(text)), "yes" if found else "no", "; ".join(found)[:60])
    honest = [p.read_text() for p in sorted(Path(builtin.__file__).parent.glob("*.py"))]
    search = Search(search_space())
    honest += [source(search.draw(family, rng)) for family in search.space for _ in range(20)]
    false_positives = sum(bool(audit(s)["findings"]) for s in honest)
    table.add_row(
        f"honest: built-ins and offline-researcher methods ({len(honest)})", "-", "-", f"{false_positives}", ""
    )
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
