"""A failing method is charged its own runs only (issue 23): the baselines of the task's teacher pool are
computed before the job is claimed, once per task and secret, and never charged. On d4820ad a failing
first submission recomputed the baselines inside its charged time (~800 s)."""

from __future__ import annotations

import pytest

from services.common.db import session_scope
from services.common.tokens import new_token
from services.scorer import pipeline
from services.scorer.config import ScorerSettings
from services.scorer.db import crud
from services.scorer.db.migrate import upgrade
from services.scorer.db.models import Submission
from w2s.baselines import load_cached
from w2s.scoring import teacher_pool
from w2s.tasks import get_task


@pytest.fixture
def settings(tmp_path, aar_home, monkeypatch):
    """A scorer home whose baseline cache is cold (the session's embeddings are reused)."""
    (aar_home / "cache" / "embeddings").mkdir(parents=True, exist_ok=True)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "embeddings").symlink_to(aar_home / "cache" / "embeddings", target_is_directory=True)
    monkeypatch.setenv("AAR_HOME", str(tmp_path))
    from w2s.config import get_settings

    get_settings.cache_clear()
    settings = ScorerSettings(
        AAR_HOME=str(tmp_path), DATABASE_URL="", REDIS_URL="", AAR_SCORER_SEEDS="2", AAR_SCORER_TEACHER_POOL="3"
    )
    upgrade(settings.db_url)
    yield settings
    get_settings.cache_clear()


def test_a_failing_first_submission_is_charged_its_runs_only(settings):
    task = get_task("rt-polarity")
    pool = teacher_pool(task.name, settings.teacher_pool)
    assert all(load_cached(task, seed) is None for seed in pool)
    with session_scope(settings.db_url) as db:
        agent = crud.issue_token(session=db, name="failing", token=new_token("t"))
        db.flush()
        agent_id = agent.id
        crud.create_submission(
            session=db,
            agent_id=agent_id,
            task=task.name,
            kind="method",
            payload={"source": "def run(ctx):\n    raise ValueError('no luck')\n"},
            payload_sha256="0" * 64,
            idempotency_key=None,
        )
        sid = db.query(Submission.id).one()[0]
    assert pipeline.process(sid, settings) == "failed"
    assert all(load_cached(task, seed) is not None for seed in pool)  # prepared once, for every submission
    with session_scope(settings.db_url) as db:
        sub = db.get_one(Submission, sid)
        runs = sub.full_result["run_seconds"]
        assert len(runs) == 1  # the first run failed: the submission ends there
        assert sub.compute_seconds == pytest.approx(sum(runs), abs=0.01)
        used = crud.quota_usage(session=db, agent_id=agent_id).compute_seconds
        assert used == pytest.approx(sum(runs), abs=0.01)
        assert sub.error.startswith("method raised ValueError: no luck")
