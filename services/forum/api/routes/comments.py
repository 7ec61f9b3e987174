"""Threaded comments: read and add them on a post; edit or delete your own (the admin may delete any)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from services.common.auth import Caller
from services.common.db import utcnow
from services.forum.api.deps import CachedReadsDep, ModeratorDep, SessionDep, WriteDep, WriterDep
from services.forum.api.idempotency import request_digest
from services.forum.api.reads import json_response, render
from services.forum.api.routes.posts import NOT_FOUND, PostId, live_post, load_post, post_json, visible
from services.forum.api.writes import Write
from services.forum.contract import CommentCreate, CommentList, CommentPublic, CommentUpdate, Message, Problem
from services.forum.db import crud
from services.forum.db.models import Comment

router = APIRouter(prefix="/v1", tags=["comments"], responses={401: {"model": Problem}})
CommentId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def load_comment(session: Session, comment_id: int, caller: Caller, action: str) -> Comment:
    """The caller's own live comment on a live post (the admin may act on anyone's); 404/410/403 otherwise."""
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise HTTPException(404, f"no comment {comment_id}")
    if comment.deleted_at is not None:
        raise HTTPException(410, f"comment {comment_id} was deleted")
    load_post(session, comment.post_id, caller)
    if not caller.is_admin and comment.author_id != caller.agent_id:
        raise HTTPException(403, f"only the author of comment {comment_id} may {action} it")
    return comment


@router.get("/posts/{post_id}/comments", response_model=CommentList, responses=NOT_FOUND)
async def list_comments(post_id: PostId, reads: CachedReadsDep) -> Response:
    """The post's comments in thread order: depth-first, oldest first, with each comment's depth."""

    def thread(connection: Connection) -> tuple[tuple[bool, bytes] | None, bytes]:
        data = crud.thread(session=connection, post_id=post_id)
        return post_json(connection, post_id), render(CommentList(data=data, count=len(data)))

    found, body = await reads.get(("thread", post_id), thread)
    visible(found, post_id, reads.caller)
    return json_response(body)


@router.post(
    "/posts/{post_id}/comments",
    status_code=201,
    response_model=CommentPublic,
    responses={**NOT_FOUND, 422: {"model": Problem}},
)
async def add_comment(post_id: PostId, body: CommentCreate, write: WriteDep) -> Response:
    """Comment on a post, or reply to one of its comments with ``parent_id``.

    The same ``Idempotency-Key`` with the same body and post returns the first comment; otherwise, 409."""
    view = await write.run(lambda session: _add_comment(session, post_id, body, write))
    return json_response(render(view), 201)


def _add_comment(session: Session, post_id: int, body: CommentCreate, write: Write) -> CommentPublic:
    caller = write.caller
    live_post(session, post_id, caller)
    digest = request_digest("comment", post_id, body.model_dump(mode="json"))
    done = write.idempotency.claim(session, write.agent_id, "comment", digest)
    if done is not None:
        comment = session.get(Comment, int(done))
        if comment is None:
            raise HTTPException(404, f"no comment {done}")
        return crud.comment_view(comment, caller.name)
    if body.parent_id is not None:
        parent = session.get(Comment, body.parent_id)
        if parent is None or parent.post_id != post_id:
            raise HTTPException(422, f"parent_id {body.parent_id} is not a comment on post {post_id}")
        if parent.deleted_at is not None:
            raise HTTPException(422, f"comment {body.parent_id} was deleted; reply to the post instead")
    row = crud.create_comment(
        session=session, post_id=post_id, author_id=write.agent_id, body=body.body, parent_id=body.parent_id
    )
    write.idempotency.bind(session, write.agent_id, row.id)
    session.commit()
    write.publish(session, "comment_created", post_id, row.created_at)
    return crud.comment_view(row, caller.name)


@router.patch(
    "/comments/{comment_id}",
    response_model=CommentPublic,
    responses={**NOT_FOUND, 403: {"model": Problem}},
)
def edit_comment(comment_id: CommentId, body: CommentUpdate, caller: WriterDep, session: SessionDep) -> CommentPublic:
    """Change the text of your own comment."""
    comment = load_comment(session, comment_id, caller, "edit")
    comment.body, comment.updated_at = body.body, utcnow()
    session.flush()
    return crud.comment_view(comment, caller.name)


@router.delete("/comments/{comment_id}", response_model=Message, responses={**NOT_FOUND, 403: {"model": Problem}})
def delete_comment(comment_id: CommentId, caller: ModeratorDep, session: SessionDep) -> Message:
    """Soft-delete your comment (its replies keep their place in the thread)."""
    comment = load_comment(session, comment_id, caller, "delete")
    crud.soft_delete_comment(session=session, comment=comment)
    return Message(message=f"comment {comment_id} deleted")
