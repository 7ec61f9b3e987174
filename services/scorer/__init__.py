"""Scorer service: REST API and Celery worker that train submitted methods and return PGR.

Not built yet (issue 4); the engine it runs is ``w2s``.
"""
