"""Hybrid search on a seeded corpus of 24 posts about weak-to-strong ideas, on both backends: the logconf
post is found by its keyword (full-text) and by a paraphrase (embeddings); near-duplicates are flagged."""

import pytest

from services.forum.search.ranking import fuse
from tests.services.forum.corpus import LOGCONF, corpus

PARAPHRASE = "make the student trust its own confident predictions"


@pytest.fixture(scope="module")
def seeded(forum):
    """The corpus, posted by two agents; returns (reader headers, logconf post id)."""
    _, alice_h = forum.new_agent()
    _, bob_h = forum.new_agent()
    ids = [forum.post(alice_h if i % 2 else bob_h, **post)["id"] for i, post in enumerate(corpus())]
    forum.wait_embedded(alice_h)
    return alice_h, ids[0]


def hits(forum, headers, q, k=10):
    response = forum.client.get("/v1/search", params={"q": q, "k": k}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["hits"]


def test_keyword_query_finds_the_logconf_post_by_full_text(forum, seeded):
    headers, logconf = seeded
    found = hits(forum, headers, "logconf")
    assert found[0]["post"]["id"] == logconf
    assert found[0]["keyword_rank"] == 1
    assert [h for h in found if h["keyword_rank"]] == found[:1]  # no other post contains the word


def test_paraphrase_finds_the_logconf_post_by_meaning(forum, seeded):
    headers, logconf = seeded
    found = hits(forum, headers, PARAPHRASE)
    assert found[0]["post"]["id"] == logconf
    assert found[0]["semantic_rank"] == 1
    assert found[0]["keyword_rank"] is None  # no post has all of the paraphrase's words


def test_stemming_and_ranking_of_keyword_matches(forum, seeded):
    headers, _ = seeded
    found = hits(forum, headers, "calibrated teacher", k=5)
    keyword = [h["post"]["title"] for h in found if h["keyword_rank"]]
    assert "Weak labels are well calibrated" in keyword
    assert "Temperature scaling the teacher" in keyword  # tagged 'calibration': stems match


def test_search_ignores_deleted_posts_and_sees_edits(forum, seeded):
    headers, _ = seeded
    post = forum.post(headers, type="insight", title="Spectral filtering", body="zyxwvut spectral trick")
    forum.wait_embedded(headers)
    assert hits(forum, headers, "zyxwvut")[0]["post"]["id"] == post["id"]
    forum.client.patch(f"/v1/posts/{post['id']}", json={"body": "renamed to qponmlk"}, headers=headers)
    forum.wait_embedded(headers)
    assert hits(forum, headers, "qponmlk")[0]["post"]["id"] == post["id"]
    assert not [h for h in hits(forum, headers, "zyxwvut") if h["keyword_rank"]]
    forum.client.delete(f"/v1/posts/{post['id']}", headers=headers)
    assert post["id"] not in [h["post"]["id"] for h in hits(forum, headers, "qponmlk spectral", k=50)]


def test_query_syntax_is_never_an_error(forum, seeded):
    headers, _ = seeded
    for q in ['"unbalanced', "a OR (b", "NOT -x*", "logconf:", "ünïcödé ∑", "' ; DROP TABLE forum_posts; --"]:
        assert forum.client.get("/v1/search", params={"q": q}, headers=headers).status_code == 200, q
    assert hits(forum, headers, "logconf")  # the table is still there
    assert forum.client.get("/v1/search", params={"q": ""}, headers=headers).status_code == 422
    assert forum.client.get("/v1/search", params={"q": "x", "k": 0}, headers=headers).status_code == 422


def test_similar_flags_a_near_duplicate_before_posting(forum, seeded):
    headers, logconf = seeded
    draft = {"title": "Auxiliary log-confidence loss on rt-polarity", "body": LOGCONF["body"]}
    response = forum.client.post("/v1/similar", json=draft, headers=headers).json()
    assert response["hits"][0]["post"]["id"] == logconf
    assert response["hits"][0]["near_duplicate"] is True
    assert response["hits"][0]["similarity"] >= response["threshold"]
    fresh = forum.client.post(
        "/v1/similar", json={"title": "Pruning attention heads in the student"}, headers=headers
    ).json()
    assert not any(h["near_duplicate"] for h in fresh["hits"])


def test_fusion_puts_posts_found_both_ways_first():
    fused = fuse({"keyword": [3, 1], "semantic": [1, 2, 3]}, k=3)
    assert [f.id for f in fused] == [1, 3, 2]
    assert fused[0].ranks == {"keyword": 2, "semantic": 1}


def test_the_minilm_embedder_finds_the_paraphrase_too(tmp_path):
    from fastapi.testclient import TestClient

    from services.forum.api.app import create_app
    from tests.services.forum.conftest import Forum, forum_settings

    settings = forum_settings(tmp_path, AAR_FORUM_EMBEDDER="minilm")
    with TestClient(create_app(settings)) as client:
        forum = Forum("embedded", client, settings)
        _, headers = forum.new_agent()
        ids = [forum.post(headers, **post)["id"] for post in corpus()]
        forum.wait_embedded(headers, timeout=180)
        found = hits(forum, headers, PARAPHRASE, k=3)
    assert ids[0] in [h["post"]["id"] for h in found]
