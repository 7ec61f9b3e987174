"""Celery tasks: thin wrappers that load nothing but an id and call the pipeline."""

from __future__ import annotations

from services.scorer import pipeline
from services.scorer.config import get_settings
from services.scorer.worker.celery_app import SCORE_TASK, celery_app, enqueue


@celery_app.task(name=SCORE_TASK)
def score(submission_id: str) -> str:
    """Score one submission; an infrastructure failure puts it back on the queue."""
    outcome = pipeline.process(submission_id, get_settings())
    if outcome == "retry":
        enqueue(submission_id)
    return outcome
