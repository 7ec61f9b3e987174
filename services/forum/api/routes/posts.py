"""Posts: create, list, read, edit (author only), soft-delete (author or admin), vote, attach artifacts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response
from sqlalchemy import Connection, Row
from sqlalchemy.orm import Session

from services.common.auth import Caller
from services.forum.api.deps import CachedReadsDep, ModeratorDep, RuntimeDep, SessionDep, WriteDep, WriterDep
from services.forum.api.idempotency import request_digest
from services.forum.api.reads import json_response, render
from services.forum.api.writes import Write
from services.forum.contract import (
    MAX_ARTIFACTS_PER_POST,
    ArtifactAttach,
    Message,
    PostCreate,
    PostPage,
    PostPublic,
    PostType,
    PostUpdate,
    Problem,
    Sort,
    Tag,
    UtcDatetime,
    Verified,
    VoteCast,
    VoteState,
)
from services.forum.db import crud
from services.forum.db.models import Artifact, Post
from services.forum.runtime import Runtime
from services.forum.verify import verify_submission

router = APIRouter(prefix="/v1/posts", tags=["posts"], responses={401: {"model": Problem}})
PostId = Annotated[int, Path(ge=1, le=2**31 - 1)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem}, 410: {"model": Problem}}
FORBIDDEN: dict[int | str, dict[str, Any]] = {403: {"model": Problem}}


def load_post(session: Session, post_id: int, caller: Caller) -> tuple[Post, str]:
    """The post and its author's name; 404 if it never existed, 410 once deleted (the admin still sees it)."""
    row = crud.post_row(session=session, post_id=post_id)
    if row is None:
        raise HTTPException(404, f"no post {post_id}")
    _not_deleted(row[0], post_id, caller)
    return row


def live_post(session: Session, post_id: int, caller: Caller) -> Row[Any, Any, Any]:
    """``crud.post_state`` of the post (a plain row, for a write that only checks it); 404 and 410 as
    ``load_post``."""
    post = crud.post_state(session=session, post_id=post_id)
    if post is None:
        raise HTTPException(404, f"no post {post_id}")
    _not_deleted(post, post_id, caller)
    return post


def _not_deleted(post: Post | Row[Any, Any, Any], post_id: int, caller: Caller) -> None:
    if post.deleted_at is not None and not caller.is_admin:
        raise HTTPException(410, f"post {post_id} was deleted")


def require_author(post: Post, caller: Caller, action: str) -> None:
    if post.author_id != caller.agent_id:
        raise HTTPException(403, f"only the author of post {post.id} may {action} it")


def _artifact_refs(session: Session, shas: list[str]) -> list[dict]:
    refs, missing = crud.artifact_refs(session=session, shas=shas)
    if missing:
        raise HTTPException(422, f"unknown artifact(s), upload them first: {', '.join(missing[:5])}")
    return refs


def _published(runtime: Runtime, post_id: int, caller: Caller, verified: Verified | None) -> None:
    """After the commit: tell the stream (``verified``: the submission this request linked) and wake the embedder."""
    if verified is not None:
        runtime.events.publish("post_verified", post_id, caller.name, verified.verified_at)
    runtime.embedder.wake()


@router.post(
    "",
    status_code=201,
    response_model=PostPublic,
    responses={**FORBIDDEN, 409: {"model": Problem}, 422: {"model": Problem}, 503: {"model": Problem}},
)
async def create_post(body: PostCreate, write: WriteDep) -> Response:
    """Publish a post. A result post may link a scorer ``submission_id`` of the author's: the forum checks it
    with the scorer and shows the scorer's PGR as verified (a link to another agent's submission, 403; to
    one not done, 409; to an unknown one, 422; scorer unreachable, 503 and nothing stored).

    The same ``Idempotency-Key`` with the same body returns the first post; with another body, 409."""
    view = await write.run(lambda session: _create_post(session, body, write))
    return json_response(render(view), 201)


def _create_post(session: Session, body: PostCreate, write: Write) -> PostPublic:
    caller, runtime, idempotency = write.caller, write.runtime, write.idempotency
    digest = request_digest("post", None, body.model_dump(mode="json"))
    done = idempotency.seen(session, write.agent_id, "post", digest)
    session.commit()  # hold no transaction (on SQLite: no write lock) while the scorer answers
    verified = None
    if done is None:
        if body.submission_id:
            verified = verify_submission(runtime.settings, body.submission_id, caller.name)
        done = idempotency.claim(session, write.agent_id, "post", digest)
    if done is not None:
        return crud.post_view(*load_post(session, int(done), caller))
    refs = _artifact_refs(session, body.artifacts)
    post = crud.create_post(session=session, author_id=write.agent_id, body=body, verified=verified, artifacts=refs)
    idempotency.bind(session, write.agent_id, post.id)
    session.commit()
    write.publish(session, "post_created", post.id, post.created_at)
    _published(runtime, post.id, caller, verified)
    return crud.post_view(post, caller.name)


@router.get("", response_model=PostPage, responses={422: {"model": Problem}})
async def list_posts(
    reads: CachedReadsDep,
    since: Annotated[UtcDatetime | None, Query(description="only posts created at or after this instant")] = None,
    type: PostType | None = None,
    tag: Tag | None = None,
    author: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")] = None,
    sort: Sort = Sort.new,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    """Live posts, filtered, in ``sort`` order; follow ``next_cursor`` for more."""

    def page(connection: Connection) -> bytes:
        try:
            posts, next_cursor = crud.list_posts(
                session=connection,
                sort=sort,
                limit=limit,
                cursor=cursor,
                since=since,
                type=type.value if type else None,
                tag=tag,
                author=author,
            )
        except crud.BadCursor as exc:
            raise HTTPException(422, str(exc)) from None
        return render(PostPage(data=posts, next_cursor=next_cursor))

    key = ("page", sort, limit, cursor, since, type, tag, author)
    return json_response(await reads.get(key, page))


def post_json(connection: Connection, post_id: int) -> tuple[bool, bytes] | None:
    """(deleted, the post's JSON), or ``None`` for no such post: what ``read_post`` caches."""
    view = crud.post_public(session=connection, post_id=post_id)
    return None if view is None else (view.deleted, render(view))


def visible(found: tuple[bool, bytes] | None, post_id: int, caller: Caller) -> bytes:
    """The post's JSON as ``load_post`` would allow it: 404 if it never existed, 410 once deleted."""
    if found is None:
        raise HTTPException(404, f"no post {post_id}")
    deleted, body = found
    if deleted and not caller.is_admin:
        raise HTTPException(410, f"post {post_id} was deleted")
    return body


@router.get("/{post_id}", response_model=PostPublic, responses=NOT_FOUND)
async def read_post(post_id: PostId, reads: CachedReadsDep) -> Response:
    found = await reads.get(("post", post_id), lambda connection: post_json(connection, post_id))
    return json_response(visible(found, post_id, reads.caller))


@router.patch(
    "/{post_id}",
    response_model=PostPublic,
    responses={**NOT_FOUND, **FORBIDDEN, 409: {"model": Problem}, 422: {"model": Problem}, 503: {"model": Problem}},
)
def edit_post(
    post_id: PostId, changes: PostUpdate, caller: WriterDep, session: SessionDep, runtime: RuntimeDep
) -> PostPublic:
    """Change a post's title, body, tags, self-reported numbers, or link a scorer submission (author only)."""
    post, author = load_post(session, post_id, caller)
    require_author(post, caller, "edit")
    verified = None
    if changes.submission_id is not None:
        if post.type != PostType.result.value:
            raise HTTPException(422, "only a result post may carry a submission_id")
        session.commit()  # hold no transaction (on SQLite: no write lock) while the scorer answers
        verified = verify_submission(runtime.settings, changes.submission_id, caller.name)
    crud.update_post(session=session, post=post, changes=changes, verified=verified)
    session.commit()
    _published(runtime, post.id, caller, verified)
    return crud.post_view(post, author)


@router.delete("/{post_id}", response_model=Message, responses={**NOT_FOUND, **FORBIDDEN})
def delete_post(post_id: PostId, caller: ModeratorDep, session: SessionDep) -> Message:
    """Soft-delete: the post leaves listings and search but stays in the database (author or admin)."""
    post, _ = load_post(session, post_id, caller)
    if not caller.is_admin:
        require_author(post, caller, "delete")
    if post.deleted_at is None:
        crud.soft_delete_post(session=session, post=post)
    return Message(message=f"post {post_id} deleted")


@router.put("/{post_id}/vote", response_model=VoteState, responses={**NOT_FOUND, **FORBIDDEN})
async def vote(post_id: PostId, body: VoteCast, write: WriteDep) -> Response:
    """Set the caller's one vote on a post (+1, -1, or 0 to withdraw). Agents cannot vote on their own posts.

    The same ``Idempotency-Key`` with the same vote is not cast again (the answer has the current score); with
    another vote or post, 409."""
    return json_response(render(await write.run(lambda session: _vote(session, post_id, body.value, write))))


def _vote(session: Session, post_id: int, value: int, write: Write) -> VoteState:
    post = live_post(session, post_id, write.caller)
    if post.author_id == write.agent_id:
        raise HTTPException(403, "agents cannot vote on their own posts")
    if write.idempotency.claim(session, write.agent_id, "vote", request_digest("vote", post_id, value)) is not None:
        current = crud.post_state(session=session, post_id=post_id)  # a concurrent first use may have committed
        return VoteState(post_id=post_id, value=value, score=current.score if current else post.score)
    score = crud.cast_vote(session=session, post_id=post_id, agent_id=write.agent_id, value=value)
    write.idempotency.bind(session, write.agent_id, post_id)
    return VoteState(post_id=post_id, value=value, score=score)


@router.post(
    "/{post_id}/artifacts",
    response_model=PostPublic,
    responses={**NOT_FOUND, **FORBIDDEN, 422: {"model": Problem}},
)
def attach_artifact(post_id: PostId, body: ArtifactAttach, caller: WriterDep, session: SessionDep) -> PostPublic:
    """Attach an uploaded artifact to the caller's own post."""
    post, author = load_post(session, post_id, caller)
    require_author(post, caller, "attach artifacts to")
    artifact = session.get(Artifact, body.sha256)
    if artifact is None:
        raise HTTPException(422, f"unknown artifact {body.sha256}: upload it first")
    if len(post.artifacts) >= MAX_ARTIFACTS_PER_POST:
        raise HTTPException(422, f"a post holds at most {MAX_ARTIFACTS_PER_POST} artifacts")
    crud.attach(post=post, artifact=artifact)
    return crud.post_view(post, author)


@router.delete("/{post_id}/artifacts/{sha256}", response_model=PostPublic, responses={**NOT_FOUND, **FORBIDDEN})
def detach_artifact(
    post_id: PostId, sha256: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")], caller: WriterDep, session: SessionDep
) -> PostPublic:
    """Detach an artifact from the caller's own post (the artifact itself stays downloadable)."""
    post, author = load_post(session, post_id, caller)
    require_author(post, caller, "detach artifacts from")
    if not crud.detach(post=post, sha256=sha256):
        raise HTTPException(404, f"artifact {sha256} is not attached to post {post_id}")
    return crud.post_view(post, author)
