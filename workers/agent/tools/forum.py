"""Forum tools: read, post, comment, vote, search, digest, and move artifacts between sandbox and forum.

They call the forum with the agent's own token (held by the worker). Files cross between the sandbox
and the forum through the worker: read from the sandbox through its interface (so a symlink planted in
the workspace cannot reach host files), and written back into it the same way.
"""

from __future__ import annotations

import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from sandbox.base import SandboxError, SizeLimitError
from services.forum import snapshot
from services.forum.client import ForumClient
from workers.agent.records import PostsData, PostSummary
from workers.agent.tools.base import CallContext, Tool, ToolError, ToolReply, artifact_name, as_json, call_service
from workers.agent.tools.workspace import WORKSPACE, resolve, run_command

PostType = Literal["result", "negative-result", "hypothesis", "insight", "question", "error"]


def post_view(post, body_chars: int | None = 300) -> dict:
    """A post as the model reads it: verified scores apart from self-reported numbers."""
    body = post.body if body_chars is None or len(post.body) <= body_chars else post.body[:body_chars] + "…"
    view = {
        "id": post.id,
        "type": post.type,
        "title": post.title,
        "author": post.author,
        "tags": post.tags,
        "score": post.score,
        "comments": post.comment_count,
        "created_at": post.created_at.isoformat(),
        "body": body,
    }
    if post.verified is not None:
        view["verified"] = {
            "pgr": post.verified.pgr,
            "flags": post.verified.flags,
            "submission_id": post.verified.submission_id,
        }
    if post.self_reported:
        view["self_reported"] = post.self_reported
    if post.artifacts:
        view["artifacts"] = [a.model_dump() for a in post.artifacts]
    return view


def post_summary(post) -> PostSummary:
    """A post as structured data: author, tags and verified PGR."""
    pgr = post.verified.pgr if post.verified is not None else None
    return PostSummary(id=post.id, author=post.author, title=post.title, tags=post.tags, verified_pgr=pgr)


def _call(call):
    return call_service(call, "forum")


class ListInput(BaseModel):
    type: PostType | None = None
    tag: str | None = None
    author: str | None = None
    sort: Literal["new", "top", "active"] = "new"
    limit: int = Field(20, ge=1, le=100)


class ReadInput(BaseModel):
    post_id: int = Field(ge=1)


class PostInput(BaseModel):
    type: PostType
    title: str = Field(min_length=1, max_length=200)
    body: str = Field("", max_length=50_000, description="markdown")
    tags: list[str] = Field(default_factory=list, max_length=10, description="lowercase, e.g. logconf")
    submission_id: str | None = Field(None, description="your scorer submission (result posts): shown as verified")
    self_reported: dict[str, float] = Field(default_factory=dict, description="numbers you measured yourself")
    artifacts: list[str] = Field(default_factory=list, description="sha256 of artifacts you uploaded")


class CommentInput(BaseModel):
    post_id: int = Field(ge=1)
    body: str = Field(min_length=1, max_length=20_000)
    parent_id: int | None = Field(None, ge=1, description="the comment you reply to")


class VoteInput(BaseModel):
    post_id: int = Field(ge=1)
    value: Literal[-1, 0, 1]


class SearchInput(BaseModel):
    q: str = Field(min_length=1, max_length=500, description="keywords or a description of the idea")
    k: int = Field(10, ge=1, le=50)


class DigestInput(BaseModel):
    since: datetime | None = Field(None, description="ISO time; default: since your last digest")


class UploadInput(BaseModel):
    path: str = Field(description="a file in your sandbox, or a folder to upload as a snapshot")
    name: str | None = None


class DownloadInput(BaseModel):
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    dest: str = Field(description="sandbox path: the file, or for a snapshot the folder to unpack it into")


def forum_tools(client: ForumClient, sandbox, timeout_cap_s: float = 600) -> list[Tool]:
    """Forum tools for one agent (``client`` carries its token); moving a folder to the forum takes no longer
    than ``timeout_cap_s`` (``AAR_AGENT_TOOL_TIMEOUT_S``) or the agent's time budget."""
    seen = {"digest": None}

    def forum_list(a: ListInput, _: CallContext) -> ToolReply:
        page = _call(lambda: client.posts(limit=a.limit, type=a.type, tag=a.tag, author=a.author, sort=a.sort))
        text = as_json({"data": [post_view(p) for p in page.data], "more": page.next_cursor is not None})
        return ToolReply(text, PostsData(posts=[post_summary(p) for p in page.data]))

    def forum_read(a: ReadInput, _: CallContext) -> str:
        post = _call(lambda: client.post(a.post_id))
        comments = _call(lambda: client.comments(a.post_id))
        thread = [{"id": c.id, "parent_id": c.parent_id, "author": c.author, "body": c.body} for c in comments.data]
        return as_json({**post_view(post, body_chars=None), "thread": thread})

    # Every write carries the tool call's id as its Idempotency-Key: a retried call never duplicates.
    def forum_post(a: PostInput, call: CallContext) -> str:
        fields = a.model_dump(exclude={"type", "title", "body"}, exclude_none=True)
        post = _call(lambda: client.create_post(a.type, a.title, a.body, idempotency_key=call.call_id, **fields))
        return as_json(post_view(post))

    def forum_comment(a: CommentInput, call: CallContext) -> str:
        comment = _call(lambda: client.comment(a.post_id, a.body, a.parent_id, idempotency_key=call.call_id))
        return as_json({"id": comment.id, "post_id": comment.post_id})

    def forum_vote(a: VoteInput, call: CallContext) -> str:
        return as_json(_call(lambda: client.vote(a.post_id, a.value, idempotency_key=call.call_id)))

    def forum_search(a: SearchInput, _: CallContext) -> str:
        results = _call(lambda: client.search(a.q, a.k))
        return as_json([{"rank_score": round(h.score, 4), **post_view(h.post)} for h in results.hits])

    def forum_digest(a: DigestInput, _: CallContext) -> str:
        digest = _call(lambda: client.digest(a.since or seen["digest"]))
        seen["digest"] = digest.until
        return as_json(
            {
                "since": digest.since,
                "until": digest.until,
                "new_posts": [post_view(p) for p in digest.new_posts],
                "replies": [r.model_dump(mode="json") for r in digest.replies],
                "verified": [post_view(p) for p in digest.verified],
            }
        )

    def forum_upload(a: UploadInput, call: CallContext) -> str:
        # Host paths here are fixed names in a fresh folder: the model's path and name never become one.
        name = artifact_name(a.name) if a.name else None
        path = resolve(a.path)
        deadline = time.monotonic() + call.time_left(timeout_cap_s)
        skipped: list[str] = []
        with tempfile.TemporaryDirectory() as tmp:
            if sandbox.exec(["test", "-d", path], timeout=min(30, _left(deadline))).exit_code == 0:
                folder = Path(tmp) / "workspace"
                skipped = _fetch_folder(sandbox, path, folder, deadline)
                archive = Path(tmp) / "snapshot.tar.gz"
                try:
                    snapshot.make(folder, archive, deadline)
                except snapshot.SnapshotError as exc:
                    raise ToolError(f"cannot upload {a.path}: {exc}") from None
                except TimeoutError:
                    raise ToolError(f"{a.path} could not be packed in the time left; upload less") from None
                upload_name = name or f"{Path(path).name or 'workspace'}.tar.gz"
                artifact = _call(
                    lambda: client.upload(archive, name=upload_name, kind="snapshot", idempotency_key=call.call_id)
                )
            else:
                try:
                    data = sandbox.read_file(path, text=False)
                except (FileNotFoundError, IsADirectoryError, PermissionError, SizeLimitError) as exc:
                    raise ToolError(f"cannot read {a.path}: {exc}") from None
                file = Path(tmp) / "upload"
                file.write_bytes(data)
                upload_name = name or artifact_name(path)
                artifact = _call(lambda: client.upload(file, name=upload_name, idempotency_key=call.call_id))
        view = {"sha256": artifact.sha256, "name": artifact.name, "size": artifact.size, "kind": artifact.kind}
        return as_json({**view, "skipped": skipped} if skipped else view)

    def forum_download(a: DownloadInput, _: CallContext) -> str | ToolReply:
        meta = _call(lambda: client.artifact(a.sha256))
        with tempfile.TemporaryDirectory() as tmp:
            local = _call(lambda: client.download(a.sha256, Path(tmp) / "artifact"))
            data = local.read_bytes()
        if meta.kind != "snapshot":
            sandbox.write_file(resolve(a.dest), data)
            return f"saved {meta.name} ({len(data)} bytes) to {resolve(a.dest)}"
        archive = f"{WORKSPACE}/.snapshot-{a.sha256[:12]}.tar.gz"
        sandbox.write_file(archive, data)
        script = 'mkdir -p "$1" && tar -xzf "$2" -C "$1"; rc=$?; rm -f "$2"; exit $rc'
        return run_command(sandbox, ["sh", "-c", script, "sh", resolve(a.dest), archive], 120)

    return [
        Tool(
            "forum_list",
            "List forum posts (filter by type, tag, author; sort new, top or active).",
            ListInput,
            forum_list,
        ),
        Tool("forum_read", "Read one post in full with its comment thread.", ReadInput, forum_read),
        Tool(
            "forum_post",
            "Publish a post: result, negative-result, hypothesis, insight, question or error. Link "
            "result posts to your scorer submission so the score shows as verified.",
            PostInput,
            forum_post,
        ),
        Tool("forum_comment", "Comment on a post, or reply to a comment.", CommentInput, forum_comment),
        Tool("forum_vote", "Vote on a post: +1, -1, or 0 to withdraw.", VoteInput, forum_vote),
        Tool("forum_search", "Search posts by keywords and by meaning.", SearchInput, forum_search),
        Tool(
            "forum_digest",
            "What is new for you: new posts, replies to your posts, newly verified results.",
            DigestInput,
            forum_digest,
        ),
        Tool(
            "forum_upload",
            "Upload a sandbox file (or a folder, as a workspace snapshot) as an artifact.",
            UploadInput,
            forum_upload,
        ),
        Tool(
            "forum_download",
            "Download an artifact into your sandbox (a snapshot is unpacked into `dest`).",
            DownloadInput,
            forum_download,
        ),
    ]


LISTING = "find \"$1\" -type f -printf '%s\\n'"  # the size of every regular file, hard links included


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise ToolError("the upload ran out of time; upload less")
    return left


def _fetch_folder(sandbox, path: str, dest: Path, deadline: float) -> list[str]:
    """Copy the sandbox folder ``path`` into ``dest`` within the forum's snapshot budget and ``deadline``:
    refused from its listing when it holds more files or bytes (every hard link counted in full) than a
    snapshot may, then streamed within that many bytes. Returns the members skipped as unsafe."""
    listing = sandbox.exec(["sh", "-c", LISTING, "sh", path], timeout=min(60, _left(deadline)))
    sizes = [int(n) for n in listing.stdout.split() if n.isdigit()]
    if listing.truncated or len(sizes) > snapshot.MAX_FILES:
        raise ToolError(f"{path} holds more than {snapshot.MAX_FILES} files: a snapshot holds at most that many")
    if sum(sizes) > snapshot.MAX_UNPACKED_BYTES:
        raise ToolError(
            f"{path} holds {sum(sizes)} bytes in files (each hard link counted in full): a snapshot holds at most "
            f"{snapshot.MAX_UNPACKED_BYTES}; upload less"
        )
    try:
        stream = snapshot.MAX_UNPACKED_BYTES + 1024 * (snapshot.MAX_FILES + 16)  # with the tar headers
        skipped = sandbox.download(path, dest, max_bytes=stream, timeout=_left(deadline))
    except SizeLimitError as exc:
        raise ToolError(f"cannot upload {path}: {exc}") from None
    except SandboxError as exc:
        if time.monotonic() >= deadline:
            raise ToolError(f"{path} could not be copied in the time left; upload less") from None
        raise ToolError(f"cannot copy {path}: {exc}") from None
    return skipped
