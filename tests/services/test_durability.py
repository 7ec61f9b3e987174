"""A 2xx means the write is committed: every writing route of the scorer and the forum is followed at once by
a read on another connection, many clients in parallel, against real API processes on both backends.

On e714f4f the session committed after the response was sent, so a fresh token was refused, a revoked one
still worked, and a deleted post still read ``deleted: false`` (issue 16). The dashboard has no database:
its two writes (campaign start and stop) write their files inside the request, before it answers.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

ROUNDS, CLIENTS = 20, 6
METHOD = "def run(ctx):\n    return ctx.weak_labels\n"


def in_parallel(cycle: Callable[[httpx.Client, list[str]], None], base_url: str) -> list[str]:
    """Run ``cycle`` ``ROUNDS`` times on ``CLIENTS`` threads (each its own connection); the violations."""
    violations: list[str] = []

    def one(_: int) -> None:
        with httpx.Client(base_url=base_url, timeout=60) as http:
            cycle(http, violations)

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(one, range(ROUNDS)))
    return violations


def expect(violations: list[str], what: str, response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        violations.append(f"{what}: {response.status_code} (expected {status}) {response.text[:120]}")
    return response


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_every_scorer_write_is_read_back_at_once(apis):
    admin = apis.admin

    def cycle(http: httpx.Client, bad: list[str]) -> None:
        name = f"a-{uuid.uuid4().hex[:8]}"
        token = expect(bad, "issue", http.post("/v1/admin/tokens", json={"agent": name}, headers=admin), 201)
        me = bearer(token.json()["token"]) if token.status_code == 201 else {}
        expect(bad, "fresh token", http.get("/v1/quota", headers=me), 200)
        body = {"task": "rt-polarity", "kind": "method", "source": METHOD}
        sub = expect(bad, "submit", http.post("/v1/submissions", json=body, headers=me), 202)
        if sub.status_code == 202:
            sid = sub.json()["id"]
            expect(bad, "submitted", http.get(f"/v1/submissions/{sid}", headers=me), 200)
            expect(bad, "cancel", http.post(f"/v1/admin/submissions/{sid}/cancel", headers=admin), 200)
            status = http.get(f"/v1/submissions/{sid}", headers=me).json().get("status")
            if status != "cancelled":
                bad.append(f"cancelled submission reads {status}")
        expect(bad, "revoke", http.delete(f"/v1/admin/tokens/{name}", headers=admin), 200)
        expect(bad, "revoked token", http.get("/v1/quota", headers=me), 401)

    violations = in_parallel(cycle, apis.scorer)
    with httpx.Client(base_url=apis.scorer, timeout=60) as http:
        expect(violations, "finalise", http.post("/v1/admin/tasks/rt-polarity/finalise", headers=admin), 200)
        if not http.get("/v1/tasks/rt-polarity", headers=admin).json().get("finalised"):
            violations.append("a finalised task reads finalised: false")
    assert violations == []


def test_every_forum_write_is_read_back_at_once(apis):
    admin = apis.admin

    def agent(http: httpx.Client, bad: list[str]) -> tuple[str, dict[str, str]]:
        name = f"a-{uuid.uuid4().hex[:8]}"
        token = expect(bad, "issue", http.post("/v1/admin/tokens", json={"agent": name}, headers=admin), 201)
        me = bearer(token.json()["token"]) if token.status_code == 201 else {}
        expect(bad, "fresh token", http.get("/v1/posts?limit=1", headers=me), 200)
        return name, me

    def cycle(http: httpx.Client, bad: list[str]) -> None:
        name, me = agent(http, bad)
        _, voter = agent(http, bad)
        post = expect(bad, "post", http.post("/v1/posts", json={"type": "insight", "title": "t"}, headers=me), 201)
        if post.status_code != 201:
            return
        url = f"/v1/posts/{post.json()['id']}"

        def read(what: str, check: Callable[[dict], bool], headers: dict[str, str] = me) -> None:
            got = http.get(url, headers=headers)
            if got.status_code != 200 or not check(got.json()):
                bad.append(f"{what}: read back {got.status_code} {got.text[:120]}")

        read("created post", lambda p: True)
        expect(bad, "edit", http.patch(url, json={"title": "edited"}, headers=me), 200)
        read("edited post", lambda p: p["title"] == "edited")
        content = uuid.uuid4().bytes
        sha = hashlib.sha256(content).hexdigest()
        expect(bad, "upload", http.post("/v1/artifacts?name=a.bin", content=content, headers=me), 201)
        expect(bad, "uploaded artifact", http.get(f"/v1/artifacts/{sha}", headers=me), 200)
        expect(bad, "attach", http.post(f"{url}/artifacts", json={"sha256": sha}, headers=me), 200)
        read("attached artifact", lambda p: [a["sha256"] for a in p["artifacts"]] == [sha])
        expect(bad, "detach", http.delete(f"{url}/artifacts/{sha}", headers=me), 200)
        read("detached artifact", lambda p: p["artifacts"] == [])
        expect(bad, "vote", http.put(f"{url}/vote", json={"value": 1}, headers=voter), 200)
        read("vote", lambda p: p["score"] == 1)
        comment = expect(bad, "comment", http.post(f"{url}/comments", json={"body": "c"}, headers=me), 201)
        if comment.status_code == 201:
            cid = comment.json()["id"]

            def comment_reads(what: str, check: Callable[[list[dict]], bool]) -> None:
                got = [c for c in http.get(f"{url}/comments", headers=me).json()["data"] if c["id"] == cid]
                if not check(got):
                    bad.append(f"{what}: read back {got}")

            comment_reads("new comment", lambda c: len(c) == 1)
            expect(bad, "edit comment", http.patch(f"/v1/comments/{cid}", json={"body": "e"}, headers=me), 200)
            comment_reads("edited comment", lambda c: c[0]["body"] == "e")
            expect(bad, "delete comment", http.delete(f"/v1/comments/{cid}", headers=me), 200)
            comment_reads("deleted comment", lambda c: not c or c[0]["deleted"])  # a leaf leaves the thread
        expect(bad, "delete post", http.delete(url, headers=admin), 200)
        read("deleted post", lambda p: p["deleted"], admin)
        expect(bad, "revoke", http.delete(f"/v1/admin/tokens/{name}", headers=admin), 200)
        expect(bad, "revoked token", http.get("/v1/posts?limit=1", headers=me), 401)

    assert in_parallel(cycle, apis.forum) == []


def _api_routes(router):
    """Every APIRoute of ``router`` and of the routers it includes."""
    from fastapi.routing import APIRoute

    for route in router.routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # FastAPI >= 0.140 keeps an included router whole
            yield from _api_routes(route.original_router)


def _session_dependants(dependant):
    for sub in dependant.dependencies:
        if getattr(sub.call, "__name__", "") == "session_dep":
            yield sub
        yield from _session_dependants(sub)


@pytest.mark.parametrize("service", ["scorer", "forum"])
def test_every_route_commits_before_it_answers(service, tmp_path, monkeypatch):
    """The class of bug, not its instances: no route of either app reaches a session whose commit would run
    after the response (a route added later with the default scope fails here)."""
    monkeypatch.setenv("AAR_HOME", str(tmp_path))
    if service == "scorer":
        from services.scorer.api.app import create_app

        app = create_app()
    else:
        from services.forum.api.app import create_app
        from tests.services.forum.conftest import forum_settings

        app = create_app(forum_settings(tmp_path))
    scopes = {
        (route.path, sub.scope) for route in _api_routes(app.router) for sub in _session_dependants(route.dependant)
    }
    assert scopes and {scope for _, scope in scopes} == {"function"}, sorted(scopes)
