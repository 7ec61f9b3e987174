"""Artifact bytes, addressed by sha256: an upload is streamed to a temporary file while it is hashed and
size-capped, then handed to a store. The filesystem store is the default; an S3-compatible store (boto3,
installed separately) is the option for several API replicas. Metadata rows live in the database.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from services.forum.config import ForumSettings

CHUNK = 1 << 20


class TooLarge(Exception):
    """The upload went past the size cap (nothing was stored)."""


@dataclass
class Received:
    path: Path  # a temporary file the caller must remove
    sha256: str
    size: int


async def receive(chunks: AsyncIterator[bytes], limit: int, tmp_dir: Path) -> Received:
    """Write ``chunks`` to a temporary file under ``tmp_dir``, hashing as it goes; ``TooLarge`` past ``limit``."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    fd, name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"artifact is larger than the {limit}-byte cap")
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        os.unlink(name)
        raise
    return Received(Path(name), digest.hexdigest(), size)


class ArtifactStore(Protocol):
    """Where artifact bytes live. ``put`` must be idempotent: the same sha256 always has the same bytes."""

    def put(self, sha256: str, source: Path) -> None: ...

    def exists(self, sha256: str) -> bool: ...

    def read(self, sha256: str) -> Iterator[bytes]: ...


class FilesystemStore:
    """Files at ``root/ab/cd/<sha256>``, written through a temporary file and an atomic rename."""

    def __init__(self, root: Path):
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, sha256: str, source: Path) -> None:
        target = self.path(sha256)
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{sha256}.{os.getpid()}.tmp")
        with open(source, "rb") as src, open(tmp, "wb") as dst:
            while chunk := src.read(CHUNK):
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(tmp, target)

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def read(self, sha256: str) -> Iterator[bytes]:
        with open(self.path(sha256), "rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk


class S3Store:
    """Objects ``<prefix><sha256>`` in an S3-compatible bucket (AWS, MinIO, Ceph). Credentials come from
    boto3's usual sources (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``, a profile or a role)."""

    def __init__(self, bucket: str, prefix: str, endpoint_url: str | None):
        try:
            import boto3
        except ImportError:
            raise RuntimeError("AAR_FORUM_STORAGE=s3 needs boto3: pip install boto3") from None
        self.bucket, self.prefix = bucket, prefix
        self.s3 = boto3.client("s3", endpoint_url=endpoint_url)

    def put(self, sha256: str, source: Path) -> None:
        if not self.exists(sha256):
            self.s3.upload_file(str(source), self.bucket, self.prefix + sha256)

    def exists(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.s3.head_object(Bucket=self.bucket, Key=self.prefix + sha256)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def read(self, sha256: str) -> Iterator[bytes]:
        body = self.s3.get_object(Bucket=self.bucket, Key=self.prefix + sha256)["Body"]
        yield from body.iter_chunks(CHUNK)


def make_store(settings: ForumSettings) -> ArtifactStore:
    """The configured store (``AAR_FORUM_STORAGE``)."""
    if settings.storage == "s3":
        if not settings.s3_bucket:
            raise RuntimeError("AAR_FORUM_STORAGE=s3 needs AAR_FORUM_S3_BUCKET")
        return S3Store(settings.s3_bucket, settings.s3_prefix, settings.s3_endpoint_url)
    return FilesystemStore(settings.artifacts_path)
