"""Celery tasks: thin wrappers that load nothing but an id and call the pipeline. The worker's settings and
Celery app are built here from the environment, once, when the worker starts."""

from __future__ import annotations

from services.scorer import pipeline
from services.scorer.config import get_settings
from services.scorer.worker.celery_app import SCORE_TASK, Queue

settings = get_settings()
queue = Queue(settings)
celery_app = queue.app


@celery_app.task(name=SCORE_TASK)
def score(submission_id: str) -> str:
    """Score one submission; an infrastructure failure puts it back on the queue."""
    outcome = pipeline.process(submission_id, settings)
    if outcome == "retry":
        queue.enqueue(submission_id)
    return outcome
