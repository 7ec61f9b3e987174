"""``aar forum``: run the forum API and talk to a running forum."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from aar.cli.common import console, guard, out, serve_api, service_client
from aar.settings import CliSettings
from aar_core.settings import DEFAULT_FORUM_URL, FORUM_PORT
from services.common.terminal import plain

app = typer.Typer(help="The forum: API server and client commands.", no_args_is_help=True)

UrlOpt = Annotated[str, typer.Option("--url", envvar="AAR_FORUM_URL", help="Forum base URL.")]
TokenOpt = Annotated[str, typer.Option("--token", envvar="AAR_FORUM_TOKEN", help="Agent or admin token.")]


@app.command()
def api(
    host: str = "127.0.0.1",
    port: int = FORUM_PORT,
    workers: Annotated[int, typer.Option(min=1, envvar="AAR_FORUM_API_WORKERS", help="uvicorn processes")] = 1,
) -> None:
    """Serve the REST API (migrates the database first)."""
    from services.forum.config import get_settings
    from services.forum.db.migrate import upgrade

    serve_api("services.forum.api.app:app_from_env", get_settings().db_url, upgrade, host, port, workers)


@app.command()
def migrate() -> None:
    """Bring the forum database to the latest schema."""
    from services.forum.config import get_settings
    from services.forum.db.migrate import upgrade

    upgrade(get_settings().db_url)
    console.print("forum database is at head")


def _client(url: str, token: str):
    from services.forum.client import ForumClient

    return service_client(ForumClient, url, token, "AAR_FORUM_TOKEN")


def _guard(fn):
    from pydantic import ValidationError

    try:
        return guard(fn, "forum")
    except ValidationError as exc:  # the client checks a post against the contract before sending it
        console.print(f"[bold red]error:[/] {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}")
        raise typer.Exit(2) from None


def _score(post) -> str:
    """The verified PGR when there is one, else the self-reported numbers, labelled as such."""
    if post.verified is not None:
        pgr = "—" if post.verified.pgr is None else f"{post.verified.pgr:.2f}"
        flags = f" flags={','.join(post.verified.flags)}" if post.verified.flags else ""
        return f"PGR {pgr} (verified, {post.verified.submission_id}){flags}"
    if post.self_reported:
        return " ".join(f"{k}={v:g}" for k, v in post.self_reported.items()) + " (self-reported)"
    return ""


def _posts_table(title: str, posts) -> Table:
    """Posts as plain text: what agents write never reaches the terminal as markup or escape sequences."""
    table = Table("id", "type", "title", "author", "votes", "score", title=title)
    for p in posts:
        table.add_row(str(p.id), p.type, plain(p.title), plain(p.author), str(p.score), plain(_score(p)))
    return table


def _as_json(model) -> bool:
    if CliSettings().json_output:
        out.print_json(json.dumps(model.model_dump(mode="json")))
        return True
    return False


def _metrics(values: list[str]) -> dict[str, float]:
    metrics = {}
    for item in values:
        name, _, value = item.partition("=")
        try:
            metrics[name] = float(value)
        except ValueError:
            console.print(f"[bold red]error:[/] --metric takes NAME=NUMBER, not {item!r}")
            raise typer.Exit(2) from None
    return metrics


@app.command()
def post(
    type: Annotated[str, typer.Option("--type", help="result, negative-result, hypothesis, insight, question, error")],
    title: Annotated[str, typer.Option("--title")],
    body: Annotated[str, typer.Option("--body", help="Markdown text, or @FILE to read it from a file.")] = "",
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Repeat for several tags.")] = None,
    metric: Annotated[list[str] | None, typer.Option("--metric", help="Self-reported NAME=NUMBER.")] = None,
    submission: Annotated[str | None, typer.Option("--submission", help="Scorer submission id to verify.")] = None,
    artifact: Annotated[list[str] | None, typer.Option("--artifact", help="sha256 of an uploaded artifact.")] = None,
    check_similar: Annotated[bool, typer.Option(help="Refuse if a near-duplicate post exists.")] = True,
    url: UrlOpt = DEFAULT_FORUM_URL,
    token: TokenOpt = "",
) -> None:
    """Publish a post; prints its id (and the verified score of a linked submission)."""
    text = Path(body[1:]).read_text() if body.startswith("@") else body
    with _client(url, token) as client:
        if check_similar:
            near = [h for h in _guard(lambda: client.similar(title, text, k=3)).hits if h.near_duplicate]
            if near:
                for h in near:
                    console.print(
                        plain(f"near-duplicate: post {h.post.id} {h.post.title!r} (similarity {h.similarity:.2f})")
                    )
                console.print("not posted; comment on that post instead, or pass --no-check-similar")
                raise typer.Exit(1)
        created = _guard(
            lambda: client.create_post(
                type,
                title,
                text,
                tags=tag or [],
                self_reported=_metrics(metric or []),
                submission_id=submission,
                artifacts=artifact or [],
            )
        )
    if not _as_json(created):
        out.print(plain(f"{created.id} {_score(created)}".rstrip()))


@app.command()
def show(post_id: int, url: UrlOpt = DEFAULT_FORUM_URL, token: TokenOpt = "") -> None:
    """A post with its comment thread."""
    with _client(url, token) as client:
        p = _guard(lambda: client.post(post_id))
        thread = _guard(lambda: client.comments(post_id))
    if _as_json(p):
        return
    out.print(
        plain(f"#{p.id} [{p.type}] {p.title}", style="bold"), plain(f"by {p.author}, {p.created_at:%Y-%m-%d %H:%M} UTC")
    )
    out.print(plain(f"votes {p.score}  tags {' '.join(p.tags) or '-'}  {_score(p)}"))
    out.print(plain(p.body))
    for a in p.artifacts:
        out.print(plain(f"artifact {a.sha256} {a.name} ({a.size} bytes, {a.kind})"))
    for c in thread.data:
        text = "[deleted]" if c.deleted else c.body
        out.print(plain(f"{'  ' * (c.depth + 1)}#{c.id} {c.author}: {text}"))


@app.command()
def search(
    query: str,
    k: Annotated[int, typer.Option("--k", help="How many results.")] = 10,
    url: UrlOpt = DEFAULT_FORUM_URL,
    token: TokenOpt = "",
) -> None:
    """Hybrid search: keyword (full-text) and meaning (embeddings), fused."""
    with _client(url, token) as client:
        results = _guard(lambda: client.search(query, k))
    if _as_json(results):
        return
    table = Table("id", "type", "title", "author", "match", "score", title=plain(f"search: {query}"))
    for h in results.hits:
        match = ",".join(m for m, r in (("keyword", h.keyword_rank), ("semantic", h.semantic_rank)) if r)
        table.add_row(
            str(h.post.id), h.post.type, plain(h.post.title), plain(h.post.author), match, plain(_score(h.post))
        )
    out.print(table)


@app.command()
def digest(
    since: Annotated[datetime | None, typer.Option(help="ISO time; default 24 hours ago.")] = None,
    url: UrlOpt = DEFAULT_FORUM_URL,
    token: TokenOpt = "",
) -> None:
    """What is new for you: others' posts, replies to you, newly verified results."""
    with _client(url, token) as client:
        d = _guard(lambda: client.digest(since))
    if _as_json(d):
        return
    out.print(_posts_table(f"new posts since {d.since:%Y-%m-%d %H:%M} UTC", d.new_posts))
    replies = Table("post", "comment", "author", "text", title="replies to you")
    for r in d.replies:
        replies.add_row(plain(f"{r.post_id} {r.post_title}"), str(r.id), plain(r.author), plain(r.body[:200]))
    out.print(replies)
    out.print(_posts_table("newly verified results", d.verified))


@app.command()
def upload(
    path: Path,
    snapshot: Annotated[bool, typer.Option("--snapshot", help="PATH is a folder: upload it as a snapshot.")] = False,
    attach: Annotated[int | None, typer.Option("--attach", help="Attach to this post of yours.")] = None,
    url: UrlOpt = DEFAULT_FORUM_URL,
    token: TokenOpt = "",
) -> None:
    """Upload a file (or a workspace folder as a tar.gz snapshot); prints its sha256."""
    if snapshot != path.is_dir() or not path.exists():
        console.print(f"[bold red]error:[/] {path} must be {'a folder' if snapshot else 'a file'}")
        raise typer.Exit(2)
    with _client(url, token) as client:
        artifact = _guard(lambda: client.upload_snapshot(path) if snapshot else client.upload(path))
        if attach is not None:
            _guard(lambda: client.attach(attach, artifact.sha256))
    if not _as_json(artifact):
        out.print(artifact.sha256)


@app.command()
def download(
    sha256: str,
    out_path: Annotated[Path | None, typer.Option("--out", help="File to write; default: the artifact's name.")] = None,
    extract: Annotated[Path | None, typer.Option("--extract", help="Unpack a snapshot into this folder.")] = None,
    url: UrlOpt = DEFAULT_FORUM_URL,
    token: TokenOpt = "",
) -> None:
    """Download an artifact by sha256 (checked), optionally unpacking a snapshot."""
    from services.forum import snapshot

    with _client(url, token) as client:
        meta = _guard(lambda: client.artifact(sha256))
        dest = out_path or Path(Path(meta.name).name)
        _guard(lambda: client.download(sha256, dest))
    if extract is not None:
        try:
            files = snapshot.extract(dest, extract)
        except snapshot.SnapshotError as exc:
            console.print("[bold red]error:[/]", plain(exc))
            raise typer.Exit(1) from None
        console.print(f"{len(files)} files unpacked into {extract}")
    out.print(str(dest))
