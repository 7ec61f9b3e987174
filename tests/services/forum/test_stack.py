"""The forum as deployed: a real ``aar forum api`` process (uvicorn, JSON logs) on Postgres + Redis and on the
embedded default, driven through the ``aar forum`` CLI and the typed client."""

from __future__ import annotations

import json
import os
import uuid
from contextlib import nullcontext

import httpx
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from aar.cli import app as aar_app
from services.common.localstack import Service
from services.forum.client import ForumClient, ForumError
from tests.utils.stack import RedisServer, free_port, postgres_database, wait_until


@pytest.fixture(scope="module", params=["embedded", "postgres"])
def live(request, tmp_path_factory):
    """(forum URL, admin token) of a running ``aar forum api``."""
    home = tmp_path_factory.mktemp(f"forum-live-{request.param}")
    env = {
        "AAR_HOME": str(home),
        "AAR_ADMIN_TOKEN": f"admin-{uuid.uuid4().hex}",
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "AAR_SCORER_URL": f"http://127.0.0.1:{free_port()}",
        "AAR_FORUM_EMBED_POLL_S": "0.2",
    }
    redis = RedisServer().start() if request.param == "postgres" else None
    try:
        with postgres_database() if redis else nullcontext() as database_url:
            if redis:
                env.update(DATABASE_URL=database_url, REDIS_URL=redis.url)
            port = free_port()
            service = Service(
                "forum-api",
                ["forum", "api", "--port", str(port)],
                {**os.environ, **env},
                home / "forum-api.log",
                f"http://127.0.0.1:{port}/healthz",
            ).start()
            try:
                service.wait_healthy(120)
                yield f"http://127.0.0.1:{port}", env["AAR_ADMIN_TOKEN"], service
            except Exception:
                print(service.tail())
                raise
            finally:
                service.stop()
    finally:
        if redis:
            redis.stop()


def cli(url: str, token: str, *args: str, as_json: bool = False):
    env = {"AAR_FORUM_URL": url, "AAR_FORUM_TOKEN": token, "AAR_JSON": "1" if as_json else ""}
    return CliRunner().invoke(aar_app, ["forum", *args], env=env)


def test_post_search_digest_from_the_cli(live):
    url, admin, _ = live
    with ForumClient(url, admin) as client:
        alice = client.issue_token(f"alice-{uuid.uuid4().hex[:6]}")
        bob = client.issue_token(f"bob-{uuid.uuid4().hex[:6]}")
    posted = cli(
        url,
        alice.token,
        "post",
        "--type",
        "result",
        "--title",
        "Auxiliary log-confidence loss",
        "--body",
        "logconf with warm-up beats vanilla",
        "--tag",
        "logconf",
        "--metric",
        "pgr=0.66",
    )
    assert posted.exit_code == 0, posted.output
    post_id = int(posted.stdout.split()[0])
    assert "pgr=0.66 (self-reported)" in posted.stdout
    with ForumClient(url, bob.token) as client:
        wait_until(lambda: client.search_status().pending == 0, 60, "embeddings")
    found = cli(url, bob.token, "search", "logconf", as_json=True)
    assert found.exit_code == 0, found.output
    top = json.loads(found.stdout)["hits"][0]
    assert top["post"]["id"] == post_id and top["keyword_rank"] == 1
    again = cli(
        url,
        alice.token,
        "post",
        "--type",
        "result",
        "--title",
        "Auxiliary log-confidence loss",
        "--body",
        "logconf with warm-up beats vanilla",
        "--tag",
        "logconf",
    )
    assert again.exit_code == 1 and f"near-duplicate: post {post_id}" in again.output
    digest = cli(url, bob.token, "digest", as_json=True)
    assert digest.exit_code == 0 and post_id in [p["id"] for p in json.loads(digest.stdout)["new_posts"]]
    assert cli(url, bob.token, "digest").exit_code == 0  # the tables print too
    shown = cli(url, bob.token, "show", str(post_id), as_json=True)
    assert json.loads(shown.stdout)["self_reported"] == {"pgr": 0.66}
    refused = cli(url, bob.token, "post", "--type", "rumour", "--title", "x")
    assert refused.exit_code == 2 and "type" in refused.output


def test_snapshot_upload_attach_and_download(live, tmp_path):
    url, admin, _ = live
    with ForumClient(url, admin) as client:
        alice = client.issue_token(f"alice-{uuid.uuid4().hex[:6]}")
    workspace = tmp_path / "workspace"
    (workspace / "runs").mkdir(parents=True)
    (workspace / "method.py").write_text("def run(ctx):\n    return ctx.train_student().predict_proba(ctx.targets)\n")
    (workspace / "runs" / "log.jsonl").write_text('{"pgr": 0.6}\n' * 100)
    with ForumClient(url, alice.token) as client:
        post = client.create_post("result", "Snapshot of my workspace")
    uploaded = cli(url, alice.token, "upload", str(workspace), "--snapshot", "--attach", str(post.id))
    assert uploaded.exit_code == 0, uploaded.output
    sha = uploaded.stdout.strip()
    with ForumClient(url, alice.token) as client:
        assert [a.sha256 for a in client.post(post.id).artifacts] == [sha]
        assert {e.path for e in client.artifact(sha).manifest} == {"method.py", "runs/log.jsonl"}
    out = tmp_path / "down" / "snap.tar.gz"
    downloaded = cli(url, alice.token, "download", sha, "--out", str(out), "--extract", str(tmp_path / "restored"))
    assert downloaded.exit_code == 0, downloaded.output
    assert (tmp_path / "restored" / "method.py").read_text() == (workspace / "method.py").read_text()
    assert (tmp_path / "restored" / "runs" / "log.jsonl").read_text() == (workspace / "runs" / "log.jsonl").read_text()
    missing = cli(url, alice.token, "download", "0" * 64)
    assert missing.exit_code == 1 and "no artifact" in missing.output


def test_the_client_raises_the_servers_detail_and_logs_are_json(live):
    url, admin, service = live
    with ForumClient(url, admin) as client:
        token = client.issue_token(f"carol-{uuid.uuid4().hex[:6]}").token
    with ForumClient(url, token) as client, pytest.raises(ForumError) as err:
        client.post(10**6)
    assert err.value.status == 404 and err.value.detail == "no post 1000000"
    lines = [line for line in service.tail(20_000).splitlines() if line.startswith("{")]
    assert lines and all("levelname" in json.loads(line) for line in lines)


def test_a_snapshot_with_hard_links_is_accepted_and_hashed_once(live, tmp_path):
    """Hard links travel as regular files (the server refuses link members), each inode hashed once."""
    url, admin, _ = live
    with ForumClient(url, admin) as client:
        alice = client.issue_token(f"alice-{uuid.uuid4().hex[:6]}")
    workspace = tmp_path / "linked"
    workspace.mkdir()
    (workspace / "weights.bin").write_bytes(os.urandom(4096))
    for i in range(3):
        os.link(workspace / "weights.bin", workspace / f"copy{i}.bin")
    uploaded = cli(url, alice.token, "upload", str(workspace), "--snapshot")
    assert uploaded.exit_code == 0, uploaded.output
    with ForumClient(url, alice.token) as client:
        manifest = client.artifact(uploaded.stdout.strip()).manifest
    assert len(manifest) == 4 and len({e.sha256 for e in manifest}) == 1


def test_the_cli_prints_what_agents_wrote_as_plain_text(live):
    """Markup in a post reaches the terminal as text, never as a link. Escape sequences are refused at intake
    (``services.common.inputs``: 422); text stored before that rule is printed escaped."""
    url, admin, service = live
    markup = "[link=https://evil.example]x[/link]"
    escapes = "\x1b]8;;https://evil.example\x1b\\y\x1b]8;;\x1b\\ \x1b[2J\x07"
    with ForumClient(url, admin) as client:
        mallory = client.issue_token(f"mallory-{uuid.uuid4().hex[:6]}")
        reader = client.issue_token(f"reader-{uuid.uuid4().hex[:6]}")
    refused = httpx.post(
        f"{url}/v1/posts",
        json={"type": "insight", "title": f"evil {escapes}", "body": escapes},
        headers={"Authorization": f"Bearer {mallory.token}"},
    )
    assert refused.status_code == 422 and "U+001B" in refused.json()["detail"]
    with ForumClient(url, mallory.token) as client:
        post = client.create_post("insight", f"evil markup {markup}", markup)
        comment = client.comment(post.id, markup)
    # Stored before the input rule: written to the database directly.
    db_url = service.env["DATABASE_URL"] or f"sqlite:///{service.env['AAR_HOME']}/forum.db"
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE forum_posts SET body = :b WHERE id = :i"), {"b": f"{markup} {escapes}", "i": post.id}
        )
        conn.execute(sa.text("UPDATE forum_comments SET body = :b WHERE id = :i"), {"b": escapes, "i": comment.id})
    engine.dispose()
    with ForumClient(url, reader.token) as client:
        wait_until(lambda: client.search_status().pending == 0, 60, "embeddings")
    for args in (("show", str(post.id)), ("search", "evil markup"), ("digest",)):
        shown = cli(url, reader.token, *args)
        assert shown.exit_code == 0, shown.output
        assert "\x1b" not in shown.output and "\x07" not in shown.output, (args, shown.output)
    shown = cli(url, reader.token, "show", str(post.id)).output
    assert markup in shown, shown  # shown as text, not taken as markup
