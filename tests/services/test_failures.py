"""The failure taxonomy (issue 26): what a client is told when the fault is not in its request. On d4820ad a
database outage was a plain-text ``500 Internal Server Error`` from both services, a full disk on the embedded
default answered a stored submission with 500, and the forum's ``/healthz`` stayed 200 while every write
failed. Now: an unavailable database, broker or disk is a JSON 503 with ``Retry-After`` (and nothing stored),
a bug a JSON 500 naming a request id that is in the log, and ``/healthz`` is readiness (``/livez`` liveness).
"""

from __future__ import annotations

import logging
import socket
import subprocess
import threading
import time
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi.testclient import TestClient

from services.common import http_server, inputs
from services.common.db import get_engine
from services.common.http_server import server_options
from services.forum.api.app import create_app as forum_app
from services.forum.config import ForumSettings
from services.forum.contract import MAX_BODY_BYTES as FORUM_MAX_BODY
from services.scorer.api.app import create_app as scorer_app
from services.scorer.client import ScorerClient, ScorerError
from services.scorer.config import ScorerSettings
from services.scorer.contract import MAX_BODY_BYTES as SCORER_MAX_BODY
from tests.utils.stack import PG_ADMIN, free_port, postgres_database, scorer_env, wait_until

METHOD = "def run(ctx):\n    return ctx.train_student().predict_proba(ctx.targets)\n"
POST = {"type": "insight", "title": "a finding", "body": "text"}


def services(home: Path, database: dict[str, str]) -> tuple[TestClient, TestClient, dict[str, str], dict[str, str]]:
    """In-process scorer and forum on ``database`` (``{"scorer": url, "forum": url}``; empty: SQLite under
    ``home``); server errors come back as responses, as a remote client sees them."""
    scorer = ScorerSettings(_env_file=None, **scorer_env(home, DATABASE_URL=database["scorer"]))
    forum = ForumSettings(
        _env_file=None,
        AAR_HOME=str(home),
        DATABASE_URL=database["forum"],
        REDIS_URL="",
        AAR_ADMIN_TOKEN=f"admin-{uuid.uuid4().hex}",
        AAR_SCORER_URL=f"http://127.0.0.1:{free_port()}",
    )
    s = TestClient(scorer_app(scorer), raise_server_exceptions=False)
    f = TestClient(forum_app(forum), raise_server_exceptions=False)
    tokens = []
    for client, settings in ((s, scorer), (f, forum)):
        admin = {"Authorization": f"Bearer {settings.resolved_admin_token()}"}
        issued = client.post("/v1/admin/tokens", json={"agent": "alice"}, headers=admin)
        assert issued.status_code == 201, issued.text
        tokens.append({"Authorization": f"Bearer {issued.json()['token']}"})
    return s, f, tokens[0], tokens[1]


def assert_unavailable(response, what: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["retry-after"]) > 0
    body = response.json()
    assert what in body["detail"] and body["request_id"] == response.headers["x-request-id"]


@contextmanager
def connections_refused(url: str):
    """A Postgres outage for one database: new connections refused, open ones terminated. Yields the function
    that ends it (called again on exit: ending twice is harmless)."""
    name = sa.engine.make_url(url).database
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})

    def restore() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))

    try:
        yield restore
    finally:
        restore()
        admin.dispose()


def test_a_database_outage_is_a_json_503_on_every_route_of_both_services(tmp_path):
    with ExitStack() as stack:
        urls = {name: stack.enter_context(postgres_database()) for name in ("scorer", "forum")}
        scorer, forum, s_agent, f_agent = services(tmp_path, urls)
        with connections_refused(urls["scorer"]), connections_refused(urls["forum"]):
            for client in (scorer, forum):
                assert client.get("/livez").status_code == 200
                assert_unavailable(client.get("/healthz"), "the database is unavailable")
            body = {"task": "rt-polarity", "kind": "method", "source": METHOD}
            assert_unavailable(scorer.post("/v1/submissions", json=body, headers=s_agent), "nothing was stored")
            assert_unavailable(scorer.get("/v1/quota", headers=s_agent), "the database is unavailable")
            assert_unavailable(forum.post("/v1/posts", json=POST, headers=f_agent), "nothing was stored")
            assert_unavailable(forum.get("/v1/posts", headers=f_agent), "the database is unavailable")
        # The outage ends: a client that retries on 503 is served (a pooled connection the outage closed
        # costs one 503; the pool then connects afresh).
        assert served(lambda: scorer.get("/healthz")) == 200 and served(lambda: forum.get("/healthz")) == 200
        assert served(lambda: scorer.post("/v1/submissions", json=body, headers=s_agent)) == 202
        assert served(lambda: forum.post("/v1/posts", json=POST, headers=f_agent)) == 201
        get_engine.cache_clear()


def served(request, attempts: int = 3) -> int:
    """The status of the first answer to ``request`` that is not a 503, retrying as a client would."""
    for _ in range(attempts):
        answer = request()
        if answer.status_code != 503:
            return answer.status_code
        assert_unavailable(answer, "unavailable")
    return 503


@pytest.fixture
def small_disk(tmp_path):
    """A 48 MiB tmpfs: a disk the test can fill."""
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m,mode=0755", "tmpfs", str(mountpoint)], check=True)
    try:
        yield mountpoint
    finally:
        get_engine.cache_clear()
        subprocess.run(["umount", "-l", str(mountpoint)], check=True)


def fill(disk: Path) -> Path:
    """Fill ``disk`` to the last byte; the filler's path (delete it to free the disk)."""
    filler = disk / "filler"
    with open(filler, "wb") as out:
        try:
            while True:
                out.write(b"\0" * (1 << 16))
                out.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_on_the_embedded_default_is_a_503_and_every_202_is_stored(small_disk):
    home = small_disk / "home"
    home.mkdir()
    scorer, forum, s_agent, f_agent = services(home, {"scorer": "", "forum": ""})
    filler = fill(small_disk)
    answers = []
    for i in range(12):
        body = {"task": "rt-polarity", "kind": "method", "source": METHOD + f"# {i} {'x' * 4000}\n"}
        answers.append(scorer.post("/v1/submissions", json=body, headers={**s_agent, "Idempotency-Key": f"k{i}"}))
        answers.append(forum.post("/v1/posts", json=POST, headers=f_agent))
    for answer in answers:
        assert answer.status_code in (201, 202, 503), answer.text
        if answer.status_code == 503:
            assert_unavailable(answer, "nothing was stored")
    assert any(a.status_code == 503 for a in answers)
    for client in (scorer, forum):
        assert_unavailable(client.get("/healthz"), "")
        assert client.get("/livez").status_code == 200
    filler.unlink()
    accepted = [a.json()["id"] for a in answers[::2] if a.status_code == 202]
    stored = {s["id"] for s in scorer.get("/v1/submissions", headers=s_agent).json()["data"]}
    assert stored == set(accepted)
    posted = sum(a.status_code == 201 for a in answers[1::2])
    assert len(forum.get("/v1/posts", params={"limit": 50}, headers=f_agent).json()["data"]) == posted


def test_a_bug_is_a_json_500_whose_request_id_is_in_the_log(tmp_path, caplog):
    home = tmp_path / "home"
    home.mkdir()
    app = scorer_app(ScorerSettings(_env_file=None, **scorer_env(home)))

    @app.get("/v1/broken")
    def broken() -> None:
        raise RuntimeError("a bug")

    client = TestClient(app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="aar.failures"):
        answer = client.get("/v1/broken")
    assert answer.status_code == 500 and answer.headers["content-type"] == "application/json"
    rid = answer.json()["request_id"]
    assert rid == answer.headers["x-request-id"] and "a bug" not in answer.text
    logged = [r for r in caplog.records if getattr(r, "request_id", None) == rid]
    assert logged and logged[0].exc_info[1].args == ("a bug",)
    assert client.get("/livez").headers["x-request-id"] != rid


@contextmanager
def served_over_tcp(app):
    """``app`` behind a real uvicorn server on 127.0.0.1 (a thread), with the options every service's server
    gets (``server_options``); its port."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", **server_options()))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 20, "the test server")
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


def send_body(port: int, path: str, token: str, chunked: bool, total: int) -> tuple[int, int]:
    """POST a JSON body of ``total`` bytes (declared, or chunked) slowly enough to be answered early; the
    status line's code and the bytes sent before the server answered or closed."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        conn.sendall(f"{head}{framing}\r\n\r\n".encode())
        chunk = b'{"task": "' + b"x" * (1 << 16)
        conn.setblocking(False)
        answer = b""
        while sent < total and not answer:
            piece = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" if chunked else chunk
            try:
                conn.sendall(piece)
                sent += len(chunk)
                answer = conn.recv(4096)
            except BlockingIOError:
                time.sleep(0.01)
            except (BrokenPipeError, ConnectionResetError):
                break
        conn.setblocking(True)
        while b"\r\n" not in answer:
            more = conn.recv(4096)
            if not more:
                break
            answer += more
    return int(answer.split(b" ")[1]), sent


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_the_contracts_limit_is_a_413_before_it_is_read(tmp_path, chunked):
    """d4820ad read and parsed a 100 MB body whole before its 422 (5.4 s scorer, 2.4 s forum)."""
    scorer, forum, s_agent, f_agent = services(tmp_path, {"scorer": "", "forum": ""})
    total = 100 * 2**20
    for client, path, agent, limit in (
        (scorer, "/v1/submissions", s_agent, SCORER_MAX_BODY),
        (forum, "/v1/posts", f_agent, FORUM_MAX_BODY),
    ):
        with served_over_tcp(client.app) as port:
            status, sent = send_body(port, path, agent["Authorization"].split()[1], chunked, total)
        assert status == 413
        assert sent < limit + 4 * 2**20  # the rest of the 100 MB was never read


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x7f", "\x85"], ids=["nul", "soh", "esc", "del", "nel"])
def test_one_input_rule_for_free_text_on_both_services(tmp_path, char):
    """d4820ad's scorer stored a method source with NUL, ``\\x01``, ``\\x1b`` or ``\\x7f`` (a NUL never compiles);
    its forum refused NUL in a title but stored the other three (escape sequences reached a terminal)."""
    scorer, forum, s_agent, f_agent = services(tmp_path, {"scorer": "", "forum": ""})
    source = {"task": "rt-polarity", "kind": "method", "source": METHOD + f"# {char}\n"}
    refused = [
        scorer.post("/v1/submissions", json=source, headers=s_agent),
        forum.post("/v1/posts", json={**POST, "title": f"a{char}b"}, headers=f_agent),
        forum.post("/v1/posts", json={**POST, "body": f"a{char}b"}, headers=f_agent),
    ]
    for answer in refused:
        assert answer.status_code == 422 and f"U+{ord(char):04X}" in answer.json()["detail"]
        assert char not in answer.text
    assert scorer.get("/v1/submissions", headers=s_agent).json()["count"] == 0
    assert forum.get("/v1/posts", headers=f_agent).json()["data"] == []
    # Tab, newline and carriage return are text.
    assert forum.post("/v1/posts", json={**POST, "body": "a\tb\r\nc"}, headers=f_agent).status_code == 201


@pytest.mark.parametrize("key", ["caf\xe9", "two words", "x" * 201, ""], ids=["latin-1", "space", "long", "empty"])
def test_one_rule_for_idempotency_keys_on_both_services(tmp_path, key):
    """d4820ad's scorer took a key in Latin-1 or of any printable form; the forum required printable ASCII."""
    scorer, forum, s_agent, f_agent = services(tmp_path, {"scorer": "", "forum": ""})
    header = {"Idempotency-Key": key.encode("latin-1")}
    body = {"task": "rt-polarity", "kind": "method", "source": METHOD}
    for answer in (
        scorer.post("/v1/submissions", json=body, headers={**s_agent, **header}),
        forum.post("/v1/posts", json=POST, headers={**f_agent, **header}),
    ):
        assert answer.status_code == 422, answer.text
        assert "idempotency-key" in answer.json()["detail"].lower()


def test_the_typed_client_retries_a_503_with_the_same_key_and_stores_once(tmp_path):
    """A submit that meets a database outage is sent again, with its key, until the outage ends (4 s): one
    submission. Without a key the client does not guess: the 503 reaches the caller."""
    with postgres_database() as url:
        scorer, _forum, s_agent, _f_agent = services(tmp_path, {"scorer": url, "forum": ""})
        token = s_agent["Authorization"].split()[1]
        with served_over_tcp(scorer.app) as port, ScorerClient(f"http://127.0.0.1:{port}", token) as client:
            with connections_refused(url) as restore:
                with pytest.raises(ScorerError) as refused:
                    client.submit_method("rt-polarity", METHOD)
                assert refused.value.status == 503
                threading.Timer(4.0, restore).start()
                started = time.monotonic()
                accepted = client.submit_method("rt-polarity", METHOD, idempotency_key="retry-me")
                assert time.monotonic() - started >= 3.5
            assert [s.id for s in client.submissions().data] == [accepted.id]
        get_engine.cache_clear()


def test_slow_clients_are_cut_off_and_cannot_block_new_ones(tmp_path, monkeypatch):
    """On d4820ad half-sent requests were kept open 30-70 s or more. Now a request's headers must be complete
    within ``HEADER_TIMEOUT_S`` and each piece of its body arrive within ``BODY_IDLE_S`` (both 1 s here),
    and while a few dozen slow clients hang on, a new client is served at once."""
    monkeypatch.setattr(http_server, "HEADER_TIMEOUT_S", 1.0)
    monkeypatch.setattr(inputs, "BODY_IDLE_S", 1.0)
    scorer, _forum, s_agent, _ = services(tmp_path, {"scorer": "", "forum": ""})
    with served_over_tcp(scorer.app) as port:
        slow = []
        for i in range(40):
            conn = socket.create_connection(("127.0.0.1", port), timeout=10)
            if i % 2:  # half a header block
                conn.sendall(b"GET /v1/quota HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            else:  # complete headers, then a body that stops after 10 of its 100 bytes
                auth = f"Authorization: {s_agent['Authorization']}"
                head = f"POST /v1/submissions HTTP/1.1\r\nHost: x\r\n{auth}\r\nContent-Type: application/json\r\n"
                conn.sendall(f"{head}Content-Length: 100\r\n\r\n".encode())
                conn.sendall(b'{"task": "')
            slow.append(conn)
        started = time.monotonic()
        assert httpx.get(f"http://127.0.0.1:{port}/livez", timeout=5).status_code == 200
        assert time.monotonic() - started < 1.0
        for i, conn in enumerate(slow):
            answer = b""
            while chunk := conn.recv(4096):
                answer += chunk
            assert time.monotonic() - started < 5.0  # closed by the server, not by the client
            if i % 2 == 0:
                assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
            conn.close()
