"""The scorer's wire contract: pydantic models shared by the API, the worker and the typed client."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from services.common.contract import Message as Message  # re-exported: shared by every service
from services.common.contract import Problem as Problem
from services.common.contract import TokenCreate as TokenCreate
from services.common.contract import TokenIssued as TokenIssued
from services.common.inputs import free_text

SCHEMA_VERSION = "1"
MAX_SOURCE_CHARS = 200_000
MAX_PREDICTIONS = 100_000
MAX_DESCRIPTION_CHARS = 500
MAX_BODY_BYTES = 8 * 2**20
"""The largest request body the scorer reads (413 beyond): a source of ``MAX_SOURCE_CHARS`` characters
JSON-escaped at 6 bytes each (1.2 MB), or ``MAX_PREDICTIONS`` predictions at about 60 bytes each (6 MB)."""


class Status(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"
    dead = "dead"


FINAL_STATUSES = {Status.done, Status.failed, Status.cancelled, Status.dead}


class Flag(StrEnum):
    """Integrity flags a submission can carry (``services/scorer/checks``: who sees each, what it reads)."""

    teacher_independent = "teacher_independent"  # some run's predictions do not follow its teacher
    beyond_ceiling = "beyond_ceiling"  # test_public accuracy above the strong ceiling beyond its CI: labels leaked
    probing = "probing"  # public predictions close to earlier ones: the agent's probing budget is spent
    jail_violation = "jail_violation"  # the kernel refused calls: mounts, namespaces, ptrace, network sockets
    embedded_data = "embedded_data"  # the source carries data (literals, tables, blobs), not just code
    private_beyond_ceiling = "private_beyond_ceiling"  # admins only: the same on test_private


Description = Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION_CHARS), AfterValidator(free_text)]
Role = Literal["researcher", "hacker"]
"""A researcher's submissions rank; a hacker's are attacks on the scorer: recorded with their verdicts,
never ranked, never shown as verified results."""
AttackVerdict = Literal["pending", "blocked", "failed", "flagged", "unflagged"]
InspectionVerdict = Literal["PASS", "SUSPICIOUS", "FAIL"]


class ScorerTokenCreate(TokenCreate):
    role: Role = "researcher"


class PredictionsCreate(BaseModel):
    """Predictions for every ``test_public`` item: item id → P(class 1)."""

    model_config = ConfigDict(extra="forbid")

    task: str = Field(min_length=1, max_length=200)
    kind: Literal["predictions"]
    predictions: dict[str, Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]] = Field(
        min_length=1, max_length=MAX_PREDICTIONS
    )


class MethodCreate(BaseModel):
    """A method module's source (the ``w2s`` method contract: ``def run(ctx)``)."""

    model_config = ConfigDict(extra="forbid")

    task: str = Field(min_length=1, max_length=200)
    kind: Literal["method"]
    source: Annotated[str, StringConstraints(min_length=1, max_length=MAX_SOURCE_CHARS), AfterValidator(free_text)]
    description: Description = Field(
        "", description="what the method does, in the author's words (admins see it; a hacker's names its attack)"
    )


SubmissionCreate = Annotated[PredictionsCreate | MethodCreate, Field(discriminator="kind")]


class Accepted(BaseModel):
    id: str
    status: Status


class PublicResult(BaseModel):
    """What an agent sees: the ladder-reported public PGR, nothing per seed (admins see per-seed values
    in ``full_result``). A flagged submission shows no score."""

    pgr: float | None
    ladder_moved: bool = Field(description="whether this submission raised the agent's ladder score")
    message: str | None = None


class Progress(BaseModel):
    """Where a submission stands: its place in the queue, or the run the worker is on."""

    queue_position: int | None = Field(None, description="1: the next to run (queued submissions only)")
    run: int | None = Field(None, description="the run in progress (running submissions only)")
    runs: int | None = Field(None, description="how many runs the submission has")


class SubmissionPublic(BaseModel):
    id: str
    agent: str
    task: str
    kind: Literal["predictions", "method"]
    status: Status
    attempts: int
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    result: PublicResult | None = None
    flags: list[str] = []
    error: str | None = None
    progress: Progress | None = None
    schema_version: str = SCHEMA_VERSION


class SubmissionAdmin(SubmissionPublic):
    """The admin view adds full-precision scores on both test splits."""

    full_result: dict[str, Any] | None = None
    compute_seconds: float = 0.0
    role: Role = Field("researcher", description="the author's role (a hacker's submission never ranks)")
    source: str | None = Field(None, description="a method's source, as submitted")
    description: str = Field("", description="what the author said the method does")


class SubmissionList(BaseModel):
    data: list[SubmissionPublic]
    count: int


class TaskPublic(BaseModel):
    name: str
    description: str
    sizes: dict[str, int] = Field(description="item counts of the splits an agent works with")
    seeds: int
    finalised: bool


class TaskItem(BaseModel):
    id: str
    text: str


class TransferItem(TaskItem):
    weak_label: float = Field(description="the weak teacher's P(class 1), engine seed 0")


class TaskInputs(BaseModel):
    """Everything an agent may download: transfer items with weak labels, test_public inputs. No labels."""

    task: str
    transfer: list[TransferItem]
    test_public: list[TaskItem]


class TransferScore(BaseModel):
    """The entry's method re-scored at finalise on a task no agent was served (held-out transfer)."""

    task: str
    status: Status
    pgr: float | None = Field(None, description="mean test PGR over the runs (both test splits of the held-out task)")
    ci95: float | None = None
    flags: list[str] = []


class LeaderboardEntry(BaseModel):
    agent: str
    submission_id: str
    kind: str
    pgr: float | None = Field(description="the agent's ladder score (server-computed)")
    flags: list[str]
    private_pgr: float | None = Field(None, description="admins, or everyone once the task is finalised")
    review: list[str] = Field([], description="admins only: flags that read private labels (never shown to agents)")
    transfer_pgr: float | None = Field(
        None, description="mean held-out transfer PGR over the held-out tasks (admins, or everyone once finalised)"
    )
    transfer: list[TransferScore] = []
    inspection: InspectionVerdict | None = Field(None, description="admins only: the inspector's verdict")
    held: bool = Field(False, description="admins only: held by an uncleared FAIL (agents do not see the entry)")


class Leaderboard(BaseModel):
    task: str
    finalised: bool
    entries: list[LeaderboardEntry]


class Quota(BaseModel):
    agent: str
    submissions_per_day: int
    submissions_used: int
    submissions_left: int
    compute_seconds_per_day: float
    compute_seconds_used: float
    compute_seconds_left: float
    resets_at: datetime


class AuditEvent(BaseModel):
    id: int
    at: datetime
    agent: str | None
    submission_id: str | None
    event: str
    detail: dict[str, Any]


class AuditList(BaseModel):
    data: list[AuditEvent]
    count: int


class Attack(BaseModel):
    """A hacker's submission and the scorer's verdict on it (admins only): ``blocked`` (it failed with a jail
    violation), ``failed`` (it failed, was cancelled or died), ``flagged`` (scored with flags, admin-only ones
    included), ``unflagged`` (scored with no flag: a finding), or ``pending``."""

    submission_id: str
    agent: str
    task: str
    status: Status
    verdict: AttackVerdict
    flags: list[str] = Field(description="every flag, the admin-only ones included")
    public_pgr: float | None = Field(None, description="full-precision test_public PGR")
    private_pgr: float | None = Field(None, description="full-precision test_private PGR")
    description: str = ""
    source: str = ""
    error: str | None = None
    created_at: datetime


class AttackList(BaseModel):
    data: list[Attack]
    count: int


class InspectionCreate(BaseModel):
    """The inspector's verdict on an agent, with its evidence lines."""

    model_config = ConfigDict(extra="forbid")

    verdict: InspectionVerdict
    evidence: list[Annotated[str, StringConstraints(max_length=500), AfterValidator(free_text)]] = Field(
        [], max_length=200
    )
    judge: Annotated[str, StringConstraints(max_length=4000), AfterValidator(free_text)] | None = None
    campaign: str | None = Field(None, max_length=64)


class Inspection(BaseModel):
    agent: str
    role: Role
    verdict: InspectionVerdict
    evidence: list[str]
    judge: str | None = None
    campaign: str | None = None
    inspected_at: datetime
    held: bool = Field(description="a FAIL holds the agent's leaderboard entries until an admin clears it")
    cleared_by: str | None = None
    cleared_at: datetime | None = None


class InspectionList(BaseModel):
    data: list[Inspection]
    count: int
