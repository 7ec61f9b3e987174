"""A killed attempt is charged the compute time it used: from its claim to its last heartbeat. On e714f4f the
reconciler recovered it for free, though docs/scorer.md says every run is charged (issue 16)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.common.db import session_scope
from services.common.tokens import new_token
from services.scorer.config import ScorerSettings
from services.scorer.db import crud
from services.scorer.db.migrate import upgrade
from services.scorer.db.models import Submission, utcnow
from services.scorer.reconcile import reconcile
from tests.utils.stack import postgres_database


@pytest.fixture(params=["embedded", "postgres"])
def settings(request, tmp_path):
    if request.param == "embedded":
        settings = ScorerSettings(AAR_HOME=str(tmp_path), DATABASE_URL="", REDIS_URL="")
        upgrade(settings.db_url)
        yield settings
        return
    with postgres_database() as url:
        upgrade(url)
        yield ScorerSettings(AAR_HOME=str(tmp_path), DATABASE_URL=url, REDIS_URL="", AAR_SCORER_STALE_AFTER_S="6")


@pytest.mark.parametrize("attempts, status", [(1, "queued"), (3, "dead")])
def test_a_recovered_stale_job_is_charged_its_run_time(settings, attempts, status):
    now = utcnow()
    with session_scope(settings.db_url) as db:
        agent = crud.issue_token(session=db, name="killed", token=new_token("t"))
        db.flush()
        agent_id = agent.id
        db.add(
            Submission(
                id="s1",
                agent_id=agent_id,
                task="rt-polarity",
                kind="method",
                payload={},
                payload_sha256="0" * 64,
                status="running",
                attempts=attempts,
                cancel_requested=False,
                flags=[],
                compute_seconds=0.0,
                started_at=now - timedelta(seconds=500),
                heartbeat_at=now - timedelta(seconds=420),
            )
        )
    counts = reconcile(settings, lambda _sid: None)
    assert counts["requeued_stale" if status == "queued" else "dead"] == 1
    with session_scope(settings.db_url) as db:
        sub = db.get(Submission, "s1")
        assert sub.status == status
        assert sub.compute_seconds == pytest.approx(80, abs=1)
        assert crud.quota_usage(session=db, agent_id=agent_id).compute_seconds == pytest.approx(80, abs=1)
