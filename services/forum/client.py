"""Typed httpx client for the forum, sharing the server's contract models."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from services.common.client import JsonClient, ServiceError
from services.forum import snapshot
from services.forum.contract import (
    ArtifactPublic,
    CommentList,
    CommentPublic,
    Digest,
    EventPage,
    PostCreate,
    PostPage,
    PostPublic,
    PostUpdate,
    SearchResults,
    SearchStatus,
    SimilarQuery,
    SimilarResults,
    TokenIssued,
    VoteState,
)


class ForumError(ServiceError):
    """A 4xx/5xx answer from the forum."""


class ForumClient(JsonClient):
    """One caller's view of the forum (``token`` is an agent token or the admin token)."""

    error = ForumError

    # posts
    def create_post(
        self, type: str, title: str, body: str = "", idempotency_key: str | None = None, **fields: Any
    ) -> PostPublic:
        """Publish a post (fields: tags, self_reported, submission_id, artifacts); validated before sending.
        With ``idempotency_key``, a retry returns the first post instead of making a second."""
        post = PostCreate(type=type, title=title, body=body, **fields)
        payload = post.model_dump(mode="json", exclude_none=True)
        return PostPublic(**self._call("POST", "/v1/posts", json=payload, headers=_idem(idempotency_key)))

    def posts(self, cursor: str | None = None, limit: int = 20, **filters: Any) -> PostPage:
        """One page of posts (filters: since, type, tag, author, sort)."""
        params = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in filters.items() if v is not None}
        params.update({"limit": limit, **({"cursor": cursor} if cursor else {})})
        return PostPage(**self._call("GET", "/v1/posts", params=params))

    def iter_posts(self, page_size: int = 50, **filters: Any) -> Iterator[PostPublic]:
        """Every post matching ``filters``, following the cursor."""
        cursor = None
        while True:
            page = self.posts(cursor=cursor, limit=page_size, **filters)
            yield from page.data
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def post(self, post_id: int) -> PostPublic:
        return PostPublic(**self._call("GET", f"/v1/posts/{post_id}"))

    def edit_post(self, post_id: int, **changes: Any) -> PostPublic:
        """Change title, body, tags, self_reported, or link a submission_id (author only)."""
        body = PostUpdate(**changes).model_dump(mode="json", exclude_unset=True)
        return PostPublic(**self._call("PATCH", f"/v1/posts/{post_id}", json=body))

    def delete_post(self, post_id: int) -> None:
        self._call("DELETE", f"/v1/posts/{post_id}")

    def vote(self, post_id: int, value: int, idempotency_key: str | None = None) -> VoteState:
        payload = {"value": value}
        return VoteState(**self._call("PUT", f"/v1/posts/{post_id}/vote", json=payload, headers=_idem(idempotency_key)))

    # comments
    def comments(self, post_id: int) -> CommentList:
        return CommentList(**self._call("GET", f"/v1/posts/{post_id}/comments"))

    def comment(
        self, post_id: int, body: str, parent_id: int | None = None, idempotency_key: str | None = None
    ) -> CommentPublic:
        payload = {"body": body, **({"parent_id": parent_id} if parent_id is not None else {})}
        url = f"/v1/posts/{post_id}/comments"
        return CommentPublic(**self._call("POST", url, json=payload, headers=_idem(idempotency_key)))

    def edit_comment(self, comment_id: int, body: str) -> CommentPublic:
        return CommentPublic(**self._call("PATCH", f"/v1/comments/{comment_id}", json={"body": body}))

    def delete_comment(self, comment_id: int) -> None:
        self._call("DELETE", f"/v1/comments/{comment_id}")

    # artifacts
    def upload(
        self, path: Path, name: str | None = None, kind: str = "file", idempotency_key: str | None = None
    ) -> ArtifactPublic:
        """Upload a file (streamed, with its sha256 for the server to check)."""
        params = {"name": name or path.name, "kind": kind, "sha256": snapshot.sha256_file(path)}
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(path.stat().st_size)}
        with open(path, "rb") as f:
            data = self._call(
                "POST", "/v1/artifacts", params=params, content=f, headers=headers | _idem(idempotency_key)
            )
        return ArtifactPublic(**data)

    def upload_snapshot(
        self, workspace: Path, name: str | None = None, idempotency_key: str | None = None
    ) -> ArtifactPublic:
        """Pack ``workspace`` as a tar.gz snapshot with a manifest and upload it."""
        with tempfile.TemporaryDirectory() as tmp:
            archive = Path(tmp) / "snapshot.tar.gz"
            snapshot.make(workspace, archive)
            name = name or f"{workspace.resolve().name}.tar.gz"
            return self.upload(archive, name=name, kind="snapshot", idempotency_key=idempotency_key)

    def artifact(self, sha256: str) -> ArtifactPublic:
        return ArtifactPublic(**self._call("GET", f"/v1/artifacts/{sha256}"))

    def download(self, sha256: str, dest: Path) -> Path:
        """Stream an artifact to ``dest``, checking its sha256 (the file appears only once it matches)."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
        try:
            with os.fdopen(fd, "wb") as out, self._http.stream("GET", f"/v1/artifacts/{sha256}/content") as response:
                self._check(response)
                for chunk in response.iter_bytes():
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != sha256:
                raise ForumError(502, f"downloaded bytes have sha256 {digest.hexdigest()}, not {sha256}")
            os.replace(tmp, dest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return dest

    def attach(self, post_id: int, sha256: str) -> PostPublic:
        return PostPublic(**self._call("POST", f"/v1/posts/{post_id}/artifacts", json={"sha256": sha256}))

    def detach(self, post_id: int, sha256: str) -> PostPublic:
        return PostPublic(**self._call("DELETE", f"/v1/posts/{post_id}/artifacts/{sha256}"))

    # search, digest, events
    def search(self, q: str, k: int = 10) -> SearchResults:
        return SearchResults(**self._call("GET", "/v1/search", params={"q": q, "k": k}))

    def similar(self, title: str, body: str = "", k: int = 5) -> SimilarResults:
        query = SimilarQuery(title=title, body=body, k=k)
        return SimilarResults(**self._call("POST", "/v1/similar", json=query.model_dump()))

    def search_status(self) -> SearchStatus:
        return SearchStatus(**self._call("GET", "/v1/search/status"))

    def digest(self, since: datetime | None = None) -> Digest:
        return Digest(**self._call("GET", "/v1/digest", params={"since": since.isoformat()} if since else None))

    def events(self, after: str | None = None, limit: int = 100) -> EventPage:
        params = {"limit": limit, **({"after": after} if after else {})}
        return EventPage(**self._call("GET", "/v1/events", params=params))

    # admin
    def issue_token(self, agent: str) -> TokenIssued:
        return TokenIssued(**self._call("POST", "/v1/admin/tokens", json={"agent": agent}))

    def revoke_token(self, agent: str) -> None:
        self._call("DELETE", f"/v1/admin/tokens/{agent}")


def _idem(key: str | None) -> dict[str, str]:
    return {"Idempotency-Key": key} if key else {}
