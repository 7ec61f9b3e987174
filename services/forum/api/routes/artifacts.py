"""Artifacts: upload raw bytes (addressed by sha256, deduplicated, size-capped), read metadata, download."""

from __future__ import annotations

import os
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.forum import snapshot, storage
from services.forum.api.deps import ReaderDep, RuntimeDep, SessionDep, WriterDep
from services.forum.api.idempotency import Idempotency, IdempotencyDep, request_digest
from services.forum.contract import ArtifactPublic, ManifestEntry, Problem
from services.forum.db import crud
from services.forum.db.models import Agent, Artifact
from services.forum.runtime import Runtime

router = APIRouter(prefix="/v1/artifacts", tags=["artifacts"], responses={401: {"model": Problem}})
Sha = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="sha256 of the content, lower-case hex")]
RAW_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _public(artifact: Artifact, uploader: str) -> ArtifactPublic:
    return ArtifactPublic(
        sha256=artifact.sha256,
        name=artifact.name,
        size=artifact.size,
        kind=artifact.kind,
        uploaded_by=uploader,
        created_at=artifact.created_at,
        manifest=[ManifestEntry(**e) for e in artifact.manifest] if artifact.manifest is not None else None,
    )


def _store(
    runtime: Runtime,
    session: Session,
    received: storage.Received,
    name: str,
    kind: str,
    agent_id: int,
    uploader: str,
    idempotency: Idempotency,
) -> tuple[ArtifactPublic, bool]:
    """Check a snapshot, put the bytes in the store, then the metadata row (so no row lacks its bytes)."""
    digest = request_digest("artifact", None, [received.sha256, name, kind])
    done = idempotency.claim(session, agent_id, "artifact", digest)
    if done is not None:
        return _public(*_load(session, done)), False
    manifest = None
    if kind == "snapshot":
        try:
            manifest = snapshot.check(received.path)
        except snapshot.SnapshotError as exc:
            raise HTTPException(422, f"not a workspace snapshot: {exc}") from None
    runtime.store.put(received.sha256, received.path)
    row, created = crud.add_artifact(
        session=session,
        sha256=received.sha256,
        name=name,
        size=received.size,
        kind=kind,
        uploaded_by=agent_id,
        manifest=manifest,
    )
    idempotency.bind(session, agent_id, received.sha256)
    session.commit()
    first = uploader if created else session.scalar(select(Agent.name).where(Agent.id == row.uploaded_by))
    return _public(row, first or "?"), created


@router.post(
    "",
    status_code=201,
    response_model=ArtifactPublic,
    openapi_extra=RAW_BODY,
    responses={
        200: {"model": ArtifactPublic, "description": "the same bytes were already stored"},
        413: {"model": Problem},
        422: {"model": Problem},
    },
)
async def upload(
    request: Request,
    caller: WriterDep,
    runtime: RuntimeDep,
    session: SessionDep,
    idempotency: IdempotencyDep,
    name: Annotated[str, Query(min_length=1, max_length=255, pattern=r"^[^/\\\x00-\x1f]+$")],
    kind: Literal["file", "snapshot"] = "file",
    sha256: Annotated[str | None, Query(pattern=r"^[0-9a-f]{64}$", description="expected sha256, checked")] = None,
):
    """Upload the request body (``application/octet-stream``) as an artifact. A ``snapshot`` must be a
    tar.gz whose first member is ``MANIFEST.json`` (``aar forum upload --snapshot DIR`` makes one).
    201 when new, 200 when the same bytes were already stored; 413 past ``AAR_FORUM_MAX_ARTIFACT_BYTES``.
    The same ``Idempotency-Key`` with the same bytes, name and kind answers 200 with the first upload's
    artifact; with anything else, 409."""
    limit = runtime.settings.max_artifact_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"artifact is larger than the {limit}-byte cap")
    try:
        received = await storage.receive(request.stream(), limit, runtime.settings.artifacts_path / "tmp")
    except storage.TooLarge as exc:
        raise HTTPException(413, str(exc)) from None
    try:
        if received.size == 0:
            raise HTTPException(422, "the artifact is empty")
        if sha256 is not None and sha256 != received.sha256:
            raise HTTPException(422, f"content has sha256 {received.sha256}, not the expected {sha256}")
        public, created = await run_in_threadpool(
            _store, runtime, session, received, name, kind, caller.required_agent_id, caller.name, idempotency
        )
    finally:
        os.unlink(received.path)
    return JSONResponse(public.model_dump(mode="json"), status_code=201 if created else 200)


def _load(session, sha256: str) -> tuple[Artifact, str]:
    row = session.execute(
        select(Artifact, Agent.name).join(Agent, Agent.id == Artifact.uploaded_by).where(Artifact.sha256 == sha256)
    ).first()
    if row is None:
        raise HTTPException(404, f"no artifact {sha256}")
    return row[0], row[1]


@router.get("/{sha256}", response_model=ArtifactPublic, responses={404: {"model": Problem}})
def read_artifact(sha256: Sha, _: ReaderDep, session: SessionDep) -> ArtifactPublic:
    """Metadata (and a snapshot's manifest) of an artifact."""
    return _public(*_load(session, sha256))


@router.get(
    "/{sha256}/content",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}, 404: {"model": Problem}},
)
def download(sha256: Sha, _: ReaderDep, session: SessionDep, runtime: RuntimeDep) -> StreamingResponse:
    """The artifact's bytes."""
    artifact, _uploader = _load(session, sha256)
    if not runtime.store.exists(sha256):
        raise HTTPException(503, f"artifact {sha256} is recorded but its bytes are not in the store")
    return StreamingResponse(
        runtime.store.read(sha256),
        media_type="application/octet-stream",
        headers={
            "Content-Length": str(artifact.size),
            "Content-Disposition": f'attachment; filename="{_ascii(artifact.name)}"',
            "X-Content-SHA256": sha256,
        },
    )


def _ascii(name: str) -> str:
    return "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)
