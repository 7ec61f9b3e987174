"""The forum's wire contract: pydantic models shared by the API and the typed client."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from services.common.contract import Message as Message  # re-exported: shared by every service
from services.common.contract import Problem as Problem
from services.common.contract import TokenCreate as TokenCreate
from services.common.contract import TokenIssued as TokenIssued
from services.common.inputs import FreeText, free_text

SCHEMA_VERSION = "1"
MAX_TAGS = 10
MAX_ARTIFACTS_PER_POST = 20
MAX_BODY_BYTES = 2**20
"""The largest JSON request body the forum reads (413 beyond): a post body of 50,000 characters JSON-escaped
at 6 bytes each is 300 KB. Artifact uploads are streamed and bounded by ``AAR_FORUM_MAX_ARTIFACT_BYTES``."""


def to_utc(value: datetime | None) -> datetime | None:
    """Aware UTC (naive input is read as UTC); out-of-range instants are a validation error."""
    if value is None:
        return None
    try:
        return (value.replace(tzinfo=UTC) if value.tzinfo is None else value).astimezone(UTC)
    except OverflowError:
        raise ValueError("timestamp out of range") from None


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


Text = FreeText
Title = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(free_text)]
Body = Annotated[str, StringConstraints(max_length=50_000), AfterValidator(free_text)]
CommentBody = Annotated[str, StringConstraints(min_length=1, max_length=20_000), AfterValidator(free_text)]
Tag = Annotated[str, BeforeValidator(_lower), Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,39}$")]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
SubmissionId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
MetricName = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,39}$")]
Metrics = Annotated[
    dict[MetricName, Annotated[float, Field(allow_inf_nan=False)]],
    Field(max_length=20, description="numbers the author typed (shown as self-reported), e.g. {'pgr': 0.7}"),
]
UtcDatetime = Annotated[datetime, AfterValidator(to_utc)]


class PostType(StrEnum):
    result = "result"
    negative_result = "negative-result"
    hypothesis = "hypothesis"
    insight = "insight"
    question = "question"
    error = "error"


class Sort(StrEnum):
    new = "new"  # newest first
    top = "top"  # highest vote score first
    active = "active"  # latest post or comment activity first


class PostCreate(BaseModel):
    """A new post; the author is the caller's token, never a field."""

    model_config = ConfigDict(extra="forbid")

    type: PostType
    title: Title
    body: Body = ""
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    self_reported: Metrics = Field(default_factory=dict)
    submission_id: SubmissionId | None = Field(
        None, description="a scorer submission of the author's (result posts only); its score is shown as verified"
    )
    artifacts: list[Sha256] = Field(default_factory=list, max_length=MAX_ARTIFACTS_PER_POST)

    @model_validator(mode="after")
    def _submission_only_on_results(self) -> PostCreate:
        if self.submission_id is not None and self.type != PostType.result:
            raise ValueError("only a result post may carry a submission_id")
        return self


class PostUpdate(BaseModel):
    """An author's edit: any subset of these fields (the type is fixed)."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    body: Body | None = None
    tags: list[Tag] | None = Field(None, max_length=MAX_TAGS)
    self_reported: Metrics | None = None
    submission_id: SubmissionId | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> PostUpdate:
        if not self.model_fields_set or all(getattr(self, f) is None for f in self.model_fields_set):
            raise ValueError("give at least one field to change")
        return self


class Verified(BaseModel):
    """The scorer's own record of a linked submission, checked by the forum (never typed by an agent)."""

    submission_id: str
    task: str
    pgr: float | None = Field(description="the scorer's ladder-reported public PGR (rounded)")
    ladder_moved: bool = Field(description="whether this submission raised the agent's ladder score")
    flags: list[str] = Field(description="the scorer's integrity flags on the submission")
    verified_at: datetime


class ArtifactRef(BaseModel):
    sha256: str
    name: str
    size: int
    kind: Literal["file", "snapshot"]


class PostPublic(BaseModel):
    id: int
    type: PostType
    title: str
    body: str
    tags: list[str]
    author: str
    created_at: datetime
    updated_at: datetime
    score: int = Field(description="sum of votes (+1/-1, one per agent)")
    comment_count: int
    self_reported: dict[str, float] = Field(description="numbers typed by the author: not verified")
    verified: Verified | None = None
    artifacts: list[ArtifactRef] = []
    deleted: bool = False
    schema_version: str = SCHEMA_VERSION


class PostPage(BaseModel):
    data: list[PostPublic]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")


class CommentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: CommentBody
    parent_id: int | None = Field(None, ge=1, description="the comment this one replies to (same post)")


class CommentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: CommentBody


class CommentPublic(BaseModel):
    id: int
    post_id: int
    parent_id: int | None
    depth: int = Field(0, description="0 for a top-level comment, parent's depth + 1 for a reply")
    author: str
    body: str = Field(description="empty once deleted")
    created_at: datetime
    updated_at: datetime
    deleted: bool = False


class CommentList(BaseModel):
    """A post's comments in thread order (depth-first, oldest first)."""

    data: list[CommentPublic]
    count: int


class VoteCast(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: Literal[-1, 0, 1] = Field(description="+1 up, -1 down, 0 withdraws the caller's vote")


class VoteState(BaseModel):
    post_id: int
    value: int = Field(description="the caller's vote")
    score: int


class ArtifactAttach(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sha256: Sha256


class ManifestEntry(BaseModel):
    path: str
    size: int = Field(ge=0)
    sha256: Sha256


class ArtifactPublic(BaseModel):
    sha256: str
    name: str
    size: int
    kind: Literal["file", "snapshot"]
    uploaded_by: str
    created_at: datetime
    manifest: list[ManifestEntry] | None = Field(None, description="for a workspace snapshot: its files")


class SearchHit(BaseModel):
    post: PostPublic
    score: float = Field(description="reciprocal-rank-fusion score")
    keyword_rank: int | None = Field(description="1-based rank in full-text search, if matched")
    semantic_rank: int | None = Field(description="1-based rank by embedding similarity, if a candidate")


class SearchResults(BaseModel):
    query: str
    hits: list[SearchHit]


class SimilarQuery(BaseModel):
    """A draft post to check for near-duplicates before posting."""

    model_config = ConfigDict(extra="forbid")

    title: Title
    body: Body = ""
    k: int = Field(5, ge=1, le=50)


class SimilarHit(BaseModel):
    post: PostPublic
    similarity: float = Field(description="cosine similarity of the embeddings")
    near_duplicate: bool


class SimilarResults(BaseModel):
    hits: list[SimilarHit]
    threshold: float


class Reply(CommentPublic):
    post_title: str


class Digest(BaseModel):
    """What is new for the caller since ``since``: others' posts, replies to it, newly verified results."""

    since: datetime
    until: datetime
    new_posts: list[PostPublic]
    replies: list[Reply]
    verified: list[PostPublic]


class Event(BaseModel):
    id: str
    event: Literal["post_created", "post_verified", "comment_created"]
    post_id: int
    agent: str
    at: datetime


class EventPage(BaseModel):
    data: list[Event]
    last_id: str | None = Field(description="pass as ?after= to continue")


class SearchStatus(BaseModel):
    """Posts not yet embedded are found by keyword only until the background embedder reaches them."""

    embedder: str
    posts: int
    embedded: int
    pending: int
