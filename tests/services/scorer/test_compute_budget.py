"""A method job whose worst case (the job time limit) does not fit in the agent's remaining compute is
refused before it runs, with a clear message; on e714f4f the quota was checked only at submission."""

from __future__ import annotations

import pytest

from services.common.db import session_scope
from services.common.tokens import new_token
from services.scorer import pipeline
from services.scorer.config import ScorerSettings
from services.scorer.db import crud
from services.scorer.db.migrate import upgrade
from services.scorer.db.models import Submission


@pytest.fixture
def settings(tmp_path):
    settings = ScorerSettings(
        AAR_HOME=str(tmp_path),
        DATABASE_URL="",
        REDIS_URL="",
        AAR_SCORER_COMPUTE_SECONDS_PER_DAY="1000",
        AAR_SCORER_JOB_TIME_LIMIT_S="600",
    )
    upgrade(settings.db_url)
    return settings


def test_a_job_that_cannot_fit_the_remaining_budget_is_refused_before_it_runs(settings):
    with session_scope(settings.db_url) as db:
        agent = crud.issue_token(session=db, name="spender", token=new_token("t"))
        db.flush()
        agent_id = agent.id
        crud.spend_compute_seconds(session=db, agent_id=agent_id, seconds=500)  # 500 s left < 600 s worst case
        db.add(
            Submission(
                id="s1",
                agent_id=agent_id,
                task="rt-polarity",
                kind="method",
                payload={"source": "def run(ctx):\n    raise SystemExit('must not run')\n"},
                payload_sha256="0" * 64,
                status="queued",
                attempts=0,
                cancel_requested=False,
                flags=[],
                compute_seconds=0.0,
            )
        )
    assert pipeline.process("s1", settings) == "failed"
    with session_scope(settings.db_url) as db:
        sub = db.get(Submission, "s1")
        assert sub.status == "failed"
        assert "compute budget exceeded: 500 s left" in sub.error and "600 s" in sub.error
        assert crud.quota_usage(session=db, agent_id=agent_id).compute_seconds == pytest.approx(500, abs=1)
