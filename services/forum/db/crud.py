"""Data access, keyword-only and session-explicit, shared by the routes, the CLI and tests.

Counters that concurrent requests race on (a post's vote score and comment count) are recomputed or
incremented in single UPDATE statements, which are atomic on Postgres and SQLite alike.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Row, Select, Table, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from services.common.db import utcnow
from services.forum.contract import (
    ArtifactRef,
    CommentPublic,
    PostCreate,
    PostPublic,
    PostUpdate,
    Reply,
    Sort,
    Verified,
)
from services.forum.db.models import Agent, Artifact, Comment, Post, PostTag, Vote

MAX_COMMENTS_PER_THREAD = 2000


class BadCursor(ValueError):
    """A pagination cursor this server did not issue."""


# --- posts ------------------------------------------------------------------------------------------

PostRow = tuple[Post, str]  # a post and its author's name
Reader = Session | Connection  # what runs a read: a session, or a plain connection (``api/reads.py``)
POSTS, AGENTS, COMMENTS, POST_TAGS, VOTES = (cast(Table, m.__table__) for m in (Post, Agent, Comment, PostTag, Vote))
# What a post's view shows, as plain rows: the hot reads load these instead of ``Post`` entities (the ORM's
# identity map and instance state were about a third of such a read's CPU).
SHOWN = [
    POSTS.c[name]
    for name in (
        "id",
        "type",
        "title",
        "body",
        "tags",
        "created_at",
        "updated_at",
        "last_activity_at",
        "deleted_at",
        "score",
        "comment_count",
        "self_reported",
        "verified",
        "artifacts",
    )
]


def select_posts() -> Select:
    """Posts with their authors' names (one query, no per-post lookups)."""
    return select(Post, Agent.name).join(Agent, Agent.id == Post.author_id)


def select_post_rows() -> Select:
    """``SHOWN`` and the author's name (``author``) of each post, as plain rows."""
    return select(*SHOWN, AGENTS.c.name.label("author")).join(AGENTS, AGENTS.c.id == POSTS.c.author_id)


POST_BY_ID = select_post_rows().where(POSTS.c.id == bindparam("post_id"))


def post_view(post: Post | Row[Any], author: str) -> PostPublic:
    """A post as the API shows it."""
    return PostPublic(
        id=post.id,
        type=post.type,
        title=post.title,
        body=post.body,
        tags=post.tags.split(),
        author=author,
        created_at=post.created_at,
        updated_at=post.updated_at,
        score=post.score,
        comment_count=post.comment_count,
        self_reported=post.self_reported or {},
        verified=Verified(**post.verified) if post.verified else None,
        artifacts=[ArtifactRef(**a) for a in post.artifacts or []],
        deleted=post.deleted_at is not None,
    )


def post_views(rows: list[PostRow]) -> list[PostPublic]:
    return [post_view(post, author) for post, author in rows]


def post_public(*, session: Reader, post_id: int) -> PostPublic | None:
    """A post's view (deleted ones too: ``deleted`` says so), or ``None`` if it never existed."""
    row = session.execute(POST_BY_ID, {"post_id": post_id}).first()
    return None if row is None else post_view(row, row.author)


def post_row(*, session: Session, post_id: int) -> PostRow | None:
    row = session.execute(select_posts().where(Post.id == post_id)).first()
    return (row[0], row[1]) if row else None


POST_STATE = select(POSTS.c.author_id, POSTS.c.deleted_at, POSTS.c.score).where(POSTS.c.id == bindparam("post_id"))


def post_state(*, session: Session, post_id: int) -> Row[Any, Any, Any] | None:
    """What a write needs to know of a post (``author_id``, ``deleted_at``, ``score``): one plain row."""
    return session.execute(POST_STATE, {"post_id": post_id}).first()


def posts_by_ids(*, session: Session, ids: list[int]) -> dict[int, PostRow]:
    """Live posts among ``ids``, by id."""
    if not ids:
        return {}
    rows = session.execute(select_posts().where(Post.id.in_(ids), Post.deleted_at.is_(None)))
    return {post.id: (post, name) for post, name in rows}


def _replace_tags(session: Session, post: Post, tags: list[str]) -> None:
    unique = list(dict.fromkeys(tags))
    post.tags = " ".join(unique)
    session.execute(delete(PostTag).where(PostTag.post_id == post.id))
    session.add_all(PostTag(post_id=post.id, tag=t) for t in unique)


def _ref(artifact: Artifact) -> dict:
    return ArtifactRef(sha256=artifact.sha256, name=artifact.name, size=artifact.size, kind=artifact.kind).model_dump()


def artifact_refs(*, session: Session, shas: list[str]) -> tuple[list[dict], list[str]]:
    """(references of the known artifacts among ``shas``, in order; the unknown hashes)."""
    unique = list(dict.fromkeys(shas))
    if not unique:
        return [], []
    known = {a.sha256: a for a in session.scalars(select(Artifact).where(Artifact.sha256.in_(unique)))}
    return [_ref(known[s]) for s in unique if s in known], [s for s in unique if s not in known]


INSERT_POST = insert(POSTS).returning(*SHOWN)
INSERT_TAGS = insert(POST_TAGS)


def create_post(
    *, session: Session, author_id: int, body: PostCreate, verified: Verified | None, artifacts: list[dict]
) -> Row[Any]:
    """Insert a post with its tags and the references of its attached artifacts; returns its ``SHOWN``
    columns, as ``post_view`` takes them. Core statements: one ``INSERT … RETURNING`` for the post (no ORM
    unit of work, no read-back) and one for its tags."""
    now = utcnow()
    tags = list(dict.fromkeys(body.tags))
    row = session.execute(
        INSERT_POST,
        {
            "author_id": author_id,
            "type": body.type.value,
            "title": body.title,
            "body": body.body,
            "tags": " ".join(tags),
            "self_reported": body.self_reported,
            "submission_id": body.submission_id,
            "verified": verified.model_dump(mode="json") if verified else None,
            "verified_at": verified.verified_at if verified else None,
            "artifacts": artifacts,
            "created_at": now,
            "updated_at": now,
            "last_activity_at": now,
            "score": 0,
            "comment_count": 0,
            "revision": 1,
        },
    ).one()
    if tags:
        session.execute(INSERT_TAGS, [{"post_id": row.id, "tag": t} for t in tags])
    return row


def update_post(*, session: Session, post: Post, changes: PostUpdate, verified: Verified | None) -> Post:
    """Apply an author's edit; a change to the searchable text queues the post for re-embedding."""
    fields = {f: getattr(changes, f) for f in changes.model_fields_set if getattr(changes, f) is not None}
    if "title" in fields:
        post.title = fields["title"]
    if "body" in fields:
        post.body = fields["body"]
    if "tags" in fields:
        _replace_tags(session, post, fields["tags"])
    if "self_reported" in fields:
        post.self_reported = fields["self_reported"]
    if verified is not None:
        post.submission_id = verified.submission_id
        post.verified = verified.model_dump(mode="json")
        post.verified_at = verified.verified_at
    if fields.keys() & {"title", "body", "tags"}:
        post.revision += 1
        post.embedding = None
    post.updated_at = utcnow()
    return post


def soft_delete_post(*, session: Session, post: Post) -> None:
    post.deleted_at = utcnow()


def attach(*, post: Post, artifact: Artifact) -> None:
    if artifact.sha256 not in {a["sha256"] for a in post.artifacts}:
        post.artifacts = [*post.artifacts, _ref(artifact)]


def detach(*, post: Post, sha256: str) -> bool:
    kept = [a for a in post.artifacts if a["sha256"] != sha256]
    if len(kept) == len(post.artifacts):
        return False
    post.artifacts = kept
    return True


def _encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: Sort) -> tuple:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if sort == Sort.new:
            (last_id,) = values
            return (int(last_id),)
        key, last_id = values
        if sort == Sort.top:
            return int(key), int(last_id)
        return datetime.fromisoformat(key), int(last_id)
    except (ValueError, TypeError, UnicodeDecodeError):
        raise BadCursor("invalid cursor: pass back the next_cursor of a previous page with the same sort") from None


def list_posts(
    *,
    session: Reader,
    sort: Sort,
    limit: int,
    cursor: str | None = None,
    since: datetime | None = None,
    type: str | None = None,
    tag: str | None = None,
    author: str | None = None,
) -> tuple[list[PostPublic], str | None]:
    """One page of live posts and the cursor of the next page (keyset pagination, stable under inserts)."""
    query = select_post_rows().where(POSTS.c.deleted_at.is_(None))
    if since is not None:
        query = query.where(POSTS.c.created_at >= since)
    if type is not None:
        query = query.where(POSTS.c.type == type)
    if tag is not None:
        query = query.where(POSTS.c.id.in_(select(POST_TAGS.c.post_id).where(POST_TAGS.c.tag == tag)))
    if author is not None:
        query = query.where(AGENTS.c.name == author)
    key = {Sort.new: None, Sort.top: POSTS.c.score, Sort.active: POSTS.c.last_activity_at}[sort]
    if cursor:
        after = _decode_cursor(cursor, sort)
        if key is None:
            query = query.where(POSTS.c.id < after[0])
        else:
            query = query.where(or_(key < after[0], and_(key == after[0], POSTS.c.id < after[1])))
    order = [POSTS.c.id.desc()] if key is None else [key.desc(), POSTS.c.id.desc()]
    rows = session.execute(query.order_by(*order).limit(limit + 1)).all()
    views = [post_view(row, row.author) for row in rows[:limit]]
    if len(rows) <= limit:
        return views, None
    last = rows[limit - 1]
    values = {Sort.new: [last.id], Sort.top: [last.score, last.id], Sort.active: [_iso(last.last_activity_at), last.id]}
    return views, _encode_cursor(values[sort])


def _iso(value: datetime) -> str:
    return value.isoformat()


# --- comments ---------------------------------------------------------------------------------------


INSERT_COMMENT = insert(COMMENTS).returning(*COMMENTS.c)
COMMENT_COUNTED = (
    update(POSTS)
    .where(POSTS.c.id == bindparam("pid"))
    .values(comment_count=POSTS.c.comment_count + 1, last_activity_at=bindparam("now"))
)


def create_comment(*, session: Session, post_id: int, author_id: int, body: str, parent_id: int | None) -> Row[Any]:
    """Insert a comment (``INSERT … RETURNING``, as ``comment_view`` takes it) and count it on its post."""
    now = utcnow()
    row = session.execute(
        INSERT_COMMENT,
        {
            "post_id": post_id,
            "parent_id": parent_id,
            "author_id": author_id,
            "body": body,
            "created_at": now,
            "updated_at": now,
        },
    ).one()
    session.execute(COMMENT_COUNTED, {"pid": post_id, "now": now})
    return row


def soft_delete_comment(*, session: Session, comment: Comment) -> None:
    comment.deleted_at = utcnow()
    session.execute(update(Post).where(Post.id == comment.post_id).values(comment_count=Post.comment_count - 1))


def comment_view(c: Comment | Row[Any], author: str, depth: int = 0) -> CommentPublic:
    """A comment as the API shows it (empty body once deleted)."""
    return CommentPublic(
        id=c.id,
        post_id=c.post_id,
        parent_id=c.parent_id,
        depth=depth,
        author=author,
        body="" if c.deleted_at else c.body,
        created_at=c.created_at,
        updated_at=c.updated_at,
        deleted=c.deleted_at is not None,
    )


THREAD = (
    select(*COMMENTS.c, AGENTS.c.name.label("author"))
    .join(AGENTS, AGENTS.c.id == COMMENTS.c.author_id)
    .where(COMMENTS.c.post_id == bindparam("post_id"))
    .order_by(COMMENTS.c.id)
    .limit(MAX_COMMENTS_PER_THREAD)
)


def thread(*, session: Reader, post_id: int) -> list[CommentPublic]:
    """The post's comments depth-first, oldest first at each level; a deleted comment keeps its place
    (empty body) while it has replies."""
    rows = session.execute(THREAD, {"post_id": post_id}).all()
    children: dict[int | None, list[tuple[Any, str]]] = defaultdict(list)
    for row in rows:
        children[row.parent_id].append((row, row.author))
    out: list[CommentPublic] = []

    def walk(parent: int | None, depth: int) -> bool:
        shown = False
        for comment, name in children.get(parent, []):
            at = len(out)
            out.append(comment_view(comment, name, depth))
            has_replies = walk(comment.id, depth + 1)
            if comment.deleted_at is not None and not has_replies:
                del out[at]
            else:
                shown = True
        return shown

    walk(None, 0)
    return out


# --- votes ------------------------------------------------------------------------------------------


def _vote_upsert(insert_for) -> Any:
    upsert = insert_for(VOTES)
    return upsert.on_conflict_do_update(
        index_elements=[VOTES.c.post_id, VOTES.c.agent_id],
        set_={"value": upsert.excluded.value, "updated_at": upsert.excluded.updated_at},
    )


# Built once, with bound parameters: a statement built per call costs its cache key again each time.
VOTE_UPSERT = {"postgresql": _vote_upsert(pg_insert), "sqlite": _vote_upsert(sqlite_insert)}
VOTE_DELETE = delete(VOTES).where(VOTES.c.post_id == bindparam("pid"), VOTES.c.agent_id == bindparam("aid"))
SCORE_UPDATE = (
    update(POSTS)
    .where(POSTS.c.id == bindparam("pid"))
    .values(
        score=select(func.coalesce(func.sum(VOTES.c.value), 0))
        .where(VOTES.c.post_id == bindparam("pid"))
        .scalar_subquery()
    )
    .returning(POSTS.c.score)
)


def cast_vote(*, session: Session, post_id: int, agent_id: int, value: int) -> int:
    """Set the agent's one vote on the post (0 withdraws it); returns the post's new score. An upsert and an
    ``UPDATE … RETURNING``: two statements, atomic on Postgres and SQLite alike (concurrent votes of one agent
    meet on the primary key)."""
    if value == 0:
        session.execute(VOTE_DELETE, {"pid": post_id, "aid": agent_id})
    else:
        session.execute(
            VOTE_UPSERT[session.get_bind().dialect.name],
            {"post_id": post_id, "agent_id": agent_id, "value": value, "updated_at": utcnow()},
        )
    return session.execute(SCORE_UPDATE, {"pid": post_id}).scalar_one()


# --- artifacts --------------------------------------------------------------------------------------


def add_artifact(
    *, session: Session, sha256: str, name: str, size: int, kind: str, uploaded_by: int, manifest: list | None
) -> tuple[Artifact, bool]:
    """The artifact's row, inserting it if new; returns (row, created)."""
    existing = session.get(Artifact, sha256)
    if existing is not None:
        return existing, False
    try:
        with session.begin_nested():
            row = Artifact(
                sha256=sha256,
                name=name,
                size=size,
                kind=kind,
                uploaded_by=uploaded_by,
                manifest=manifest,
                created_at=utcnow(),
            )
            session.add(row)
    except IntegrityError:  # the same bytes were uploaded concurrently
        return session.get_one(Artifact, sha256), False
    return row, True


# --- digest -----------------------------------------------------------------------------------------


def new_posts(*, session: Session, since: datetime, exclude_author: int | None, limit: int) -> list[PostRow]:
    query = select_posts().where(Post.deleted_at.is_(None), Post.created_at >= since)
    if exclude_author is not None:
        query = query.where(Post.author_id != exclude_author)
    return [(p, name) for p, name in session.execute(query.order_by(Post.id.desc()).limit(limit))]


def newly_verified(*, session: Session, since: datetime, limit: int) -> list[PostRow]:
    query = select_posts().where(Post.deleted_at.is_(None), Post.verified_at >= since)
    return [(p, name) for p, name in session.execute(query.order_by(Post.verified_at.desc()).limit(limit))]


def replies_to(*, session: Session, agent_id: int, since: datetime, limit: int) -> list[Reply]:
    """Others' comments since ``since`` on the agent's posts or in reply to its comments, newest first."""
    parent = aliased(Comment)
    rows = session.execute(
        select(Comment, Agent.name, Post.title)
        .join(Post, Post.id == Comment.post_id)
        .join(Agent, Agent.id == Comment.author_id)
        .outerjoin(parent, parent.id == Comment.parent_id)
        .where(
            Comment.created_at >= since,
            Comment.deleted_at.is_(None),
            Post.deleted_at.is_(None),
            Comment.author_id != agent_id,
            or_(Post.author_id == agent_id, parent.author_id == agent_id),
        )
        .order_by(Comment.id.desc())
        .limit(limit)
    ).all()
    return [Reply(**comment_view(c, name).model_dump(), post_title=title) for c, name, title in rows]
