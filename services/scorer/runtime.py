"""What one scorer API process holds besides its routes: settings, the admin token, the served tasks with
their prepared inputs, and the queue it sends submissions to."""

from __future__ import annotations

from dataclasses import dataclass

from services.scorer.catalogue import Catalogue
from services.scorer.config import ScorerSettings
from services.scorer.worker.celery_app import Queue


@dataclass
class Runtime:
    settings: ScorerSettings
    admin_token: str
    catalogue: Catalogue
    queue: Queue


def build_runtime(settings: ScorerSettings) -> Runtime:
    """Everything from ``settings``; the admin token file is created up front in the embedded default."""
    return Runtime(
        settings=settings,
        admin_token=settings.resolved_admin_token(),
        catalogue=Catalogue(settings.task_names, settings.device),
        queue=Queue(settings),
    )
