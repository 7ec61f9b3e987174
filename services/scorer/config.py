"""Scorer settings, from environment variables (documented defaults; see docs/scorer.md)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator

from services.common.settings import ServiceSettings

Ranking = Literal["private", "transfer", "mean"]


class ScorerSettings(ServiceSettings):
    """Every knob of the scorer API and worker.

    With no ``DATABASE_URL`` the scorer uses SQLite under ``AAR_HOME``; with no ``REDIS_URL`` Celery
    uses a filesystem transport under ``AAR_HOME``. With no ``AAR_ADMIN_TOKEN`` a random admin token is
    generated once and kept in ``$AAR_HOME/admin-token`` (mode 0600).
    """

    database_url: str | None = Field(None, validation_alias="DATABASE_URL")
    redis_url: str | None = Field(None, validation_alias="REDIS_URL")

    tasks: str = Field("rt-polarity,tweet-sentiment", min_length=1, validation_alias="AAR_SCORER_TASKS")
    seeds: int = Field(5, ge=1, le=20, validation_alias="AAR_SCORER_SEEDS")
    submissions_per_day: int = Field(50, ge=1, validation_alias="AAR_SCORER_SUBMISSIONS_PER_DAY")
    compute_seconds_per_day: float = Field(4 * 3600, gt=0, validation_alias="AAR_SCORER_COMPUTE_SECONDS_PER_DAY")
    job_time_limit_s: int = Field(1800, ge=10, validation_alias="AAR_SCORER_JOB_TIME_LIMIT_S")
    prepare_time_limit_s: int = Field(1800, ge=0, validation_alias="AAR_SCORER_PREPARE_TIME_LIMIT_S")
    max_attempts: int = Field(3, ge=1, validation_alias="AAR_SCORER_MAX_ATTEMPTS")
    heartbeat_s: float = Field(5.0, gt=0, validation_alias="AAR_SCORER_HEARTBEAT_S")
    stale_after_s: float = Field(60.0, gt=0, validation_alias="AAR_SCORER_STALE_AFTER_S")
    requeue_after_s: float = Field(600.0, gt=0, validation_alias="AAR_SCORER_REQUEUE_AFTER_S")
    reconcile_every_s: float = Field(30.0, gt=0, validation_alias="AAR_SCORER_RECONCILE_EVERY_S")
    broker_watch_s: float = Field(2.0, gt=0, validation_alias="AAR_SCORER_BROKER_WATCH_S")
    jail_memory_mb: int = Field(8192, ge=256, validation_alias="AAR_SCORER_JAIL_MEMORY_MB")
    parallel: int = Field(1, ge=1, validation_alias="AAR_SCORER_PARALLEL_RUNS")
    ladder_step: float = Field(0.01, gt=0, validation_alias="AAR_SCORER_LADDER_STEP")
    probing_max_changed: int = Field(50, ge=1, validation_alias="AAR_SCORER_PROBING_MAX_CHANGED")
    probing_budget_bits: float = Field(24.0, gt=0, validation_alias="AAR_SCORER_PROBING_BUDGET_BITS")
    teacher_pool: int = Field(10, ge=2, le=100, validation_alias="AAR_SCORER_TEACHER_POOL")
    min_teacher_dependence: float = Field(0.3, ge=0, le=1, validation_alias="AAR_SCORER_MIN_TEACHER_DEPENDENCE")
    fixed_max_changed: int = Field(10, ge=0, validation_alias="AAR_SCORER_FIXED_MAX_CHANGED")
    ceiling_margin: float = Field(0.01, ge=0, validation_alias="AAR_SCORER_CEILING_MARGIN")
    heldout_tasks: str = Field("", validation_alias="AAR_SCORER_HELDOUT_TASKS")
    final_ranking: Ranking = Field("private", validation_alias="AAR_SCORER_FINAL_RANKING")

    @model_validator(mode="after")
    def _consistent(self) -> ScorerSettings:
        if self.teacher_pool < self.seeds:
            raise ValueError(
                f"AAR_SCORER_TEACHER_POOL ({self.teacher_pool}) must be at least AAR_SCORER_SEEDS ({self.seeds})"
            )
        served = set(self.task_names) & set(self.heldout_task_names)
        if served:
            raise ValueError(f"held-out tasks must be tasks no agent is served: {sorted(served)}")
        if self.final_ranking != "private" and not self.heldout_task_names:
            raise ValueError("AAR_SCORER_FINAL_RANKING needs AAR_SCORER_HELDOUT_TASKS")
        return self

    @property
    def heldout_task_names(self) -> list[str]:
        """The tasks each agent's best method is re-scored on at finalise (``AAR_SCORER_HELDOUT_TASKS``):
        never served, so no agent ever saw their inputs."""
        return [name.strip() for name in self.heldout_tasks.split(",") if name.strip()]

    @property
    def task_names(self) -> list[str]:
        """The tasks this scorer serves (``AAR_SCORER_TASKS``, comma-separated): an operator's choice,
        never a client's (a ``jsonl:<dir>`` task reads host files and trains models)."""
        return [name.strip() for name in self.tasks.split(",") if name.strip()]

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'scorer.db'}"

    @property
    def parallel_runs(self) -> int:
        """Runs of one submission that overlap in its jail (``AAR_SCORER_PARALLEL_RUNS``), at most the runs."""
        return min(self.parallel, self.seeds)

    @property
    def task_time_limit_s(self) -> int:
        """The worker's hard limit on one delivery: preparing the task's baselines, then the job's runs."""
        return self.prepare_time_limit_s + self.job_time_limit_s + 120

    @property
    def visibility_timeout_s(self) -> int:
        """Above the longest delivery (hard limit) with margin, so Redis never re-delivers a running job."""
        return 2 * self.task_time_limit_s + 600


@lru_cache
def get_settings() -> ScorerSettings:
    return ScorerSettings()
