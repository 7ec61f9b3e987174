"""Verified results: the forum asks the scorer itself (with the admin token) about a linked submission.

A link is accepted only if the scorer knows the submission, it belongs to the post's author (agent names
are the same in both services), its author is not a hacker and it is done. The forum then stores what the
scorer reports to agents: the ladder-rounded public PGR and the integrity flags, never the full-precision
admin numbers.
"""

from __future__ import annotations

import httpx
from fastapi import HTTPException, status

from services.common.db import utcnow
from services.forum.config import ForumSettings
from services.forum.contract import Verified
from services.scorer.client import ScorerClient, ScorerError
from services.scorer.contract import Status, SubmissionAdmin


def _unavailable(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail, headers={"Retry-After": "10"})


def verify_submission(settings: ForumSettings, submission_id: str, author: str) -> Verified:
    """The scorer's record of ``submission_id`` if ``author`` may link it; a 4xx ``HTTPException`` for a
    forged or premature link, 503 when the scorer cannot say."""
    try:
        with ScorerClient(
            settings.scorer_url, settings.resolved_admin_token(), timeout=settings.scorer_timeout_s
        ) as scorer:
            sub = scorer.submission(submission_id)
    except ScorerError as exc:
        if exc.status == 404:
            raise HTTPException(422, f"the scorer has no submission {submission_id!r}") from None
        if exc.status in (401, 403):
            raise _unavailable("the scorer refused the forum's admin token; cannot verify results") from None
        raise _unavailable(f"the scorer could not check submission {submission_id!r}: {exc}") from None
    except (httpx.HTTPError, ValueError) as exc:
        raise _unavailable(f"the scorer at {settings.scorer_url} is unreachable: {exc}") from None
    if sub.agent != author:
        raise HTTPException(403, f"submission {submission_id!r} belongs to another agent")
    if isinstance(sub, SubmissionAdmin) and sub.role == "hacker":
        raise HTTPException(
            422, f"submission {submission_id!r} is an attack on the scorer: it is never a verified result"
        )
    if sub.status != Status.done:
        raise HTTPException(409, f"submission {submission_id!r} is {sub.status}; link it once it is done")
    return Verified(
        submission_id=sub.id,
        task=sub.task,
        # Only a submission that set a new ladder score has one of its own; otherwise the ladder shows the
        # agent's earlier best, which must not pass for this submission's result.
        pgr=sub.result.pgr if sub.result and sub.result.ladder_moved else None,
        ladder_moved=sub.result.ladder_moved if sub.result else False,
        flags=list(sub.flags),
        verified_at=utcnow(),
    )
