"""The dashboard's connections to the scorer and the forum (admin token), and how their failures reach the
page: the service's own 4xx passes through; a refused admin token, a 5xx or no answer at all is a 502/504."""

from __future__ import annotations

import threading
from collections import OrderedDict

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.common.client import ServiceError
from services.forum.client import ForumClient
from services.scorer.client import ScorerClient, ScorerError
from services.scorer.contract import FINAL_STATUSES, SubmissionAdmin


class Upstreams:
    """Admin clients of the scorer and the forum, and a bounded memory of finished submissions (a finished
    submission's admin view never changes, so the leaderboard and the progress curves fetch each one once)."""

    def __init__(self, scorer_url: str, forum_url: str, token: str, timeout: float, keep: int = 20_000):
        self.scorer = ScorerClient(scorer_url, token, timeout=timeout)
        self.forum = ForumClient(forum_url, token, timeout=timeout)
        self._finished: OrderedDict[str, SubmissionAdmin] = OrderedDict()
        self._keep = keep
        self._lock = threading.Lock()

    def submission(self, submission_id: str) -> SubmissionAdmin:
        """The admin view of one submission (from memory once it is finished)."""
        with self._lock:
            if submission_id in self._finished:
                return self._finished[submission_id]
        sub = self.scorer.submission(submission_id)
        if not isinstance(sub, SubmissionAdmin):  # the scorer answers non-admin callers with the public view
            raise ScorerError(403, f"no admin view of submission {submission_id}")
        if sub.status in FINAL_STATUSES:
            with self._lock:
                self._finished[submission_id] = sub
                while len(self._finished) > self._keep:
                    self._finished.popitem(last=False)
        return sub

    def caching_scorer(self) -> CachingScorer:
        return CachingScorer(self)


class CachingScorer(ScorerClient):
    """A ``ScorerClient`` for code that takes one (``report.summarise``): ``submission`` answers from the
    finished-submission memory; everything else goes over the dashboard's scorer connection."""

    def __init__(self, upstreams: Upstreams):  # no client of its own: the Upstreams' connection is shared
        self._http = upstreams.scorer._http
        self._upstreams = upstreams

    def submission(self, submission_id: str) -> SubmissionAdmin:
        return self._upstreams.submission(submission_id)


def public_pgr(sub: SubmissionAdmin) -> float | None:
    """The full-precision mean test_public PGR from a submission's admin report (None if absent)."""
    splits = ((sub.full_result or {}).get("report") or {}).get("splits") or {}
    return ((splits.get("test_public") or {}).get("pgr") or {}).get("mean")


def install_error_handlers(app: FastAPI) -> None:
    """Map upstream failures to ``{"detail": ...}`` answers."""

    @app.exception_handler(ServiceError)
    async def _service_error(_request: Request, exc: ServiceError) -> JSONResponse:
        service = "scorer" if isinstance(exc, ScorerError) else "forum"
        if exc.status in (401, 403):
            status, detail = 502, f"the {service} refused the dashboard's admin token ({exc.detail})"
        elif exc.status >= 500:
            status, detail = 502, f"the {service} failed: {exc.status} {exc.detail}"
        else:
            status, detail = exc.status, exc.detail
        return JSONResponse(status_code=status, content={"detail": detail})

    @app.exception_handler(httpx.TransportError)
    async def _unreachable(_request: Request, exc: httpx.TransportError) -> JSONResponse:
        try:
            where = f"{exc.request.url.scheme}://{exc.request.url.netloc.decode()}"
        except RuntimeError:  # no request attached
            where = "an upstream service"
        status = 504 if isinstance(exc, httpx.TimeoutException) else 502
        return JSONResponse(status_code=status, content={"detail": f"{where} did not answer: {exc}"})
