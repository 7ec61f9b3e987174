"""The forum search evaluation set: W2S posts in the forum's post types and researcher queries with graded
relevance, plus the ranking metrics that ``bench/forum_search_quality.py`` and the CI floor share.

``posts.jsonl``: one post a line (``key``, ``type``, ``title``, ``body``, ``tags``). ``queries.jsonl``: one
query a line (``id``, ``kind`` = ``paraphrase`` | ``keyword``, ``q``, ``relevant`` = post key → grade, 2 for
the post the query was written for, 1 for a related one). The queries were written before any search
tuning and stay fixed; paraphrases mostly share at most one content word with their grade-2 posts
(``content_overlap`` measures it).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can cannot could did didn't do does doesn't doing don't down during each even every
    few for from further get gets give gave had has have having here how i if in into is it it's its itself
    just less made make makes many may me more most much my need needed no nobody nor not now of off on once
    one only or other our out over own per rather same should so some such than that that's the their them
    then there these they thing things this those through to too toward under until up us use using usually
    very via vs was we were what when where which while who why will with without would you your""".split()
)


@dataclass(frozen=True)
class Post:
    key: str
    type: str
    title: str
    body: str
    tags: list[str]

    def create_body(self) -> dict:
        """The ``POST /v1/posts`` body (``contract.PostCreate``) of this post."""
        return {"type": self.type, "title": self.title, "body": self.body, "tags": self.tags}


@dataclass(frozen=True)
class Query:
    id: str
    kind: str
    q: str
    relevant: dict[str, int]


def posts() -> list[Post]:
    return [Post(**json.loads(line)) for line in (HERE / "posts.jsonl").read_text().splitlines() if line.strip()]


def queries() -> list[Query]:
    return [Query(**json.loads(line)) for line in (HERE / "queries.jsonl").read_text().splitlines() if line.strip()]


def _stem(word: str) -> str:
    for suffix in (
        "ational",
        "ations",
        "ation",
        "ising",
        "izing",
        "ings",
        "ing",
        "ised",
        "ized",
        "ers",
        "ies",
        "ed",
        "es",
        "er",
        "ly",
        "s",
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> set[str]:
    """Stemmed words of ``text`` that are not stopwords or numbers."""
    return {_stem(w) for w in re.findall(r"[a-z][a-z'-]*", text.lower()) if w not in STOPWORDS and len(w) > 1}


def content_overlap(query: str, post: Post) -> set[str]:
    """The content words a query shares with a post's title, body and tags."""
    return content_words(query) & content_words(f"{post.title} {post.body} {' '.join(post.tags)}")


def dcg(grades: list[int]) -> float:
    return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(grades))


def metrics(ranked: list[str], relevant: dict[str, int]) -> dict[str, float]:
    """hit@1 and hit@3 (a grade-2 post in the top 1 / 3), MRR of the first grade-2 post, nDCG@10 over grades."""
    targets = {key for key, grade in relevant.items() if grade == 2}
    first = next((i for i, key in enumerate(ranked, start=1) if key in targets), None)
    ideal = dcg(sorted(relevant.values(), reverse=True)[:10])
    return {
        "hit@1": float(first == 1),
        "hit@3": float(first is not None and first <= 3),
        "mrr": 1.0 / first if first else 0.0,
        "ndcg@10": dcg([relevant.get(key, 0) for key in ranked[:10]]) / ideal,
    }


def mean_metrics(rows: list[dict[str, float]]) -> dict[str, float]:
    return {name: sum(r[name] for r in rows) / len(rows) for name in rows[0]} if rows else {}
