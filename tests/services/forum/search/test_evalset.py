"""The search evaluation set is what it claims: ≥ 200 valid posts in the forum's types, ≥ 60 queries whose
relevance judgements name real posts, and paraphrases that mostly share at most one content word with
their target."""

from services.forum.contract import PostCreate, PostType
from tests.services.forum.search.eval import content_overlap, metrics, posts, queries


def test_corpus_is_valid_forum_posts_of_every_type():
    corpus = posts()
    assert len(corpus) >= 200
    assert len({p.key for p in corpus}) == len(corpus)
    for post in corpus:
        PostCreate(**post.create_body())  # raises on anything the API would reject
    assert {p.type for p in corpus} == {t.value for t in PostType}


def test_queries_judge_real_posts_and_paraphrases_avoid_the_targets_words():
    by_key = {p.key: p for p in posts()}
    judged = queries()
    assert len(judged) >= 60 and len({q.id for q in judged}) == len(judged)
    for query in judged:
        assert query.kind in {"paraphrase", "keyword"}
        assert set(query.relevant) <= set(by_key), query.id
        assert 2 in query.relevant.values(), query.id
    paraphrases = [q for q in judged if q.kind == "paraphrase"]
    close = [
        q.id
        for q in paraphrases
        if any(len(content_overlap(q.q, by_key[k])) > 1 for k, g in q.relevant.items() if g == 2)
    ]
    assert len(paraphrases) >= 45 and len(close) <= len(paraphrases) // 10, close


def test_metrics_of_a_ranking():
    relevant = {"a": 2, "b": 1}
    assert metrics(["a", "b", "c"], relevant) == {"hit@1": 1.0, "hit@3": 1.0, "mrr": 1.0, "ndcg@10": 1.0}
    second = metrics(["c", "a"], relevant)
    assert (second["hit@1"], second["hit@3"], second["mrr"]) == (0.0, 1.0, 0.5)
    assert metrics(["c"], relevant)["mrr"] == 0.0
