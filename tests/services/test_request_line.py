"""A path or query string that is not printable text gets a 4xx from every service, never a 500.

On e714f4f a NUL reached Postgres (which refuses it in text) and came back as a 500 from the scorer's
submissions, audit, token and cancel routes and the forum's token route (issue 16).
"""

from __future__ import annotations

import httpx
import pytest

from services.common.inputs import request_line_problem

BAD = ["%00", "a%00b", "%01", "%7F", "%C2%85", "%FF", "%ED%A0%80"]  # NUL, controls, not UTF-8, a surrogate
SCORER = [
    ("GET", "/v1/submissions?agent={}"),
    ("GET", "/v1/submissions?task={}"),
    ("GET", "/v1/submissions/{}"),
    ("GET", "/v1/tasks/{}"),
    ("GET", "/v1/admin/audit?agent={}"),
    ("GET", "/v1/admin/audit?submission_id={}&event=x"),
    ("DELETE", "/v1/admin/tokens/{}"),
    ("POST", "/v1/admin/submissions/{}/cancel"),
    ("POST", "/v1/admin/tasks/{}/finalise"),
]
FORUM = [
    ("DELETE", "/v1/admin/tokens/{}"),
    ("GET", "/v1/posts?author={}"),
    ("GET", "/v1/posts?cursor={}"),
    ("GET", "/v1/search?q={}"),
    ("GET", "/v1/digest?since={}"),
]


def refusals(base_url: str, routes: list[tuple[str, str]], headers: dict[str, str]) -> list[str]:
    """Every (route, bad value) that did not get a 4xx."""
    wrong = []
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as http:
        for method, template in routes:
            for value in BAD:
                url = template.format(value)
                status = http.request(method, url).status_code
                if not 400 <= status < 500:
                    wrong.append(f"{method} {url} -> {status}")
    return wrong


def test_scorer_refuses_non_text_in_the_request_line(apis):
    assert refusals(apis.scorer, SCORER, apis.admin) == []


def test_forum_refuses_non_text_in_the_request_line(apis):
    assert refusals(apis.forum, FORUM, apis.admin) == []


@pytest.mark.parametrize(
    "path, query",
    [(b"/v1/posts/%C3%A9t%C3%A9 x", b""), (b"/v1/search", b"q=line+one%0Aline+two%09%E2%9C%93"), (b"/", b"a=&b")],
)
def test_printable_text_passes(path, query):
    assert request_line_problem(path, query) is None


@pytest.mark.parametrize(
    "path, query, why",
    [
        (b"/v1/x%00", b"", "path: character U+0000"),
        (b"/v1/x%0A", b"", "path: character U+000A"),
        (b"/v1/x", b"agent=%00", "query parameter 'agent': character U+0000"),
        (b"/v1/x", b"a%00=1", "query parameter"),
        (b"/v1/x", b"agent=%FF", "not UTF-8"),
    ],
)
def test_what_is_refused(path, query, why):
    assert why in (request_line_problem(path, query) or "")


def test_the_dashboard_refuses_them_too(tmp_path):
    """The dashboard passes query values on to the scorer and forum: it refuses them itself first."""
    from fastapi.testclient import TestClient

    from services.dashboard.api.app import create_app
    from services.dashboard.config import DashboardSettings

    settings = DashboardSettings(aar_home=tmp_path, scorer_url="http://127.0.0.1:9", forum_url="http://127.0.0.1:9")
    with TestClient(create_app(settings)) as client:
        for url in ("/v1/submissions?agent=%00", "/v1/forum/search?q=%00", "/v1/campaigns/%00"):
            assert client.get(url).status_code == 400, url
