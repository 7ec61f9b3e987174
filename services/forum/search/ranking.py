"""The one ranking function: reciprocal-rank fusion of any number of rankings.

RRF scores a document ``sum(1 / (K + rank))`` over the rankings it appears in (Cormack et al., 2009).
It needs no score calibration between BM25-like and cosine scores, which live on unrelated scales.
"""

from __future__ import annotations

from dataclasses import dataclass, field

RRF_K = 60


@dataclass
class Fused:
    id: int
    score: float = 0.0
    ranks: dict[str, int] = field(default_factory=dict)  # ranking name → 1-based rank


def fuse(rankings: dict[str, list[int]], k: int, rrf_k: int = RRF_K) -> list[Fused]:
    """The top ``k`` ids across ``rankings`` (name → ids, best first) by RRF score; ties by id, newest first."""
    fused: dict[int, Fused] = {}
    for name, ids in rankings.items():
        for rank, doc in enumerate(ids, start=1):
            entry = fused.setdefault(doc, Fused(doc))
            entry.score += 1.0 / (rrf_k + rank)
            entry.ranks[name] = rank
    return sorted(fused.values(), key=lambda f: (-f.score, -f.id))[:k]
