"""Search quality floor: the evaluation set (204 W2S posts, 56 paraphrase and 18 keyword queries) posted
through the API on both backends, every query asked through ``GET /v1/search``. The fused ranking must stay
at or above the floors measured on this set (docs/benchmarks.md, "Forum search quality"), less a margin
of about two queries for embedding and full-text differences between platforms."""

import pytest

from tests.services.forum.search.eval import mean_metrics, metrics, posts, queries

# kind → metric → floor. Measured with wordllama (the default embedder), fused with full-text search:
# paraphrase hit@3 0.38, MRR 0.33; keyword hit@3 0.83, MRR 0.74 (SQLite; Postgres within a query).
FLOORS = {
    "paraphrase": {"hit@3": 0.33, "mrr": 0.28},
    "keyword": {"hit@3": 0.75, "mrr": 0.65},
}


@pytest.fixture(scope="module")
def evaluated(forum):
    """kind → mean metrics of the fused ranking the API serves."""
    _, headers = forum.new_agent()
    keys = {forum.post(headers, **post.create_body())["id"]: post.key for post in posts()}
    forum.wait_embedded(headers)
    rows: dict[str, list[dict[str, float]]] = {}
    for query in queries():
        response = forum.client.get("/v1/search", params={"q": query.q, "k": 10}, headers=headers)
        assert response.status_code == 200, response.text
        ranked = [keys[hit["post"]["id"]] for hit in response.json()["hits"]]
        rows.setdefault(query.kind, []).append(metrics(ranked, query.relevant))
    return {kind: mean_metrics(kind_rows) for kind, kind_rows in rows.items()}


@pytest.mark.parametrize("kind", sorted(FLOORS))
def test_fused_search_stays_above_its_quality_floor(evaluated, kind):
    measured = evaluated[kind]
    for name, floor in FLOORS[kind].items():
        assert measured[name] >= floor, (kind, name, measured)
