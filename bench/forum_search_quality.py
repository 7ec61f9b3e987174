"""Forum search quality on the evaluation set (``tests/services/forum/search/eval``): hit@1, hit@3, MRR and
nDCG@10 of keyword search alone, of each embedding model alone, and of the fused ranking the API serves,
for paraphrase and keyword queries separately. Prints a table; copy it into docs/benchmarks.md.

    .venv/bin/python -m bench.forum_search_quality                      # SQLite FTS5 (the embedded default)
    .venv/bin/python -m bench.forum_search_quality --backend postgres   # Postgres tsvector (local Postgres 15)

Posts go into a fresh database through the forum's own ``crud`` and migrations; each model embeds them
through the forum's own embedder; rankings come from the functions the search route calls.
"""

from __future__ import annotations

import tempfile
from contextlib import contextmanager, nullcontext
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from tests.services.forum.search.eval import mean_metrics, metrics, posts, queries

EMBEDDERS = ["wordllama", "minilm"]


@contextmanager
def seeded_database(backend: str):
    """A migrated database holding the evaluation posts; yields (url, post id → key)."""
    from services.common.db import session_scope
    from services.forum.contract import PostCreate
    from services.forum.db import crud
    from services.forum.db.migrate import upgrade
    from services.forum.db.models import Agent
    from tests.utils.stack import postgres_database

    with tempfile.TemporaryDirectory() as home, postgres_database() if backend == "postgres" else nullcontext() as pg:
        url = pg or f"sqlite:///{Path(home) / 'forum.db'}"
        upgrade(url)
        keys: dict[int, str] = {}
        with session_scope(url) as session:
            author = Agent(name="eval", token_sha256="-" * 64)
            session.add(author)
            session.flush()
            for post in posts():
                row = crud.create_post(
                    session=session,
                    author_id=author.id,
                    body=PostCreate(**post.create_body()),
                    verified=None,
                    artifacts=[],
                )
                keys[row.id] = post.key
        yield url, keys


def evaluate(backend: str = "sqlite") -> dict[str, dict[str, dict[str, float]]]:
    """ranking name → query kind (and ``all``) → mean metrics."""
    from services.common.db import session_scope
    from services.forum.search.embedder import embed, embed_pending
    from services.forum.search.engine import CANDIDATES, hybrid_search
    from services.forum.search.fulltext import keyword_ranking
    from services.forum.search.vectors import VectorIndex

    judged = queries()
    per_ranking: dict[str, dict[str, list[dict[str, float]]]] = {}

    def score(name: str, query, ids: list[int], keys: dict[int, str]) -> None:
        row = metrics([keys[i] for i in ids], query.relevant)
        per_ranking.setdefault(name, {}).setdefault(query.kind, []).append(row)
        per_ranking[name].setdefault("all", []).append(row)

    with seeded_database(backend) as (url, keys):
        for embedder in EMBEDDERS:
            while embed_pending(url, embedder):
                pass
            index = VectorIndex(embedder, reload_s=3600)
            embed(embedder, ["warm up"])  # the model loads once per process, before any query is timed
            with session_scope(url, read_only=True) as session:
                index.refresh(session)
                for query in judged:
                    if embedder == EMBEDDERS[0]:
                        score("keyword", query, keyword_ranking(session, query.q, CANDIDATES), keys)
                    fused = hybrid_search(session, index, query.q, 10)
                    score(f"fused (keyword + {embedder})", query, [f.id for f in fused], keys)
                    vector = embed(embedder, [query.q])[0]
                    score(f"semantic: {embedder}", query, [i for i, _ in index.nearest(vector, CANDIDATES)], keys)
    return {name: {kind: mean_metrics(rows) for kind, rows in kinds.items()} for name, kinds in per_ranking.items()}


def main(backend: str = typer.Option("sqlite", help="sqlite (FTS5) or postgres (tsvector)")) -> None:
    result = evaluate(backend)
    judged = queries()
    console = Console()
    counts = {kind: sum(q.kind == kind for q in judged) for kind in ("paraphrase", "keyword")}
    table = Table(
        "ranking",
        "queries",
        "hit@1",
        "hit@3",
        "MRR",
        "nDCG@10",
        title=f"forum search quality, {backend}, {len(posts())} posts, "
        f"{counts['paraphrase']} paraphrase + {counts['keyword']} keyword queries",
    )
    for name, kinds in result.items():
        for kind in ("paraphrase", "keyword", "all"):
            m = kinds[kind]
            table.add_row(name, kind, *(f"{m[k]:.2f}" for k in ("hit@1", "hit@3", "mrr", "ndcg@10")))
    console.print(table)


if __name__ == "__main__":
    typer.run(main)
