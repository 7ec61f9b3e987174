"""The scorer's Celery worker: thin tasks over ``services.scorer.pipeline``."""
