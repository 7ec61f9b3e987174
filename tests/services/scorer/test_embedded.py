"""The embedded default end to end: `aar scorer api` + `aar scorer worker` with no DATABASE_URL or
REDIS_URL (SQLite and a filesystem queue under AAR_HOME)."""

from services.scorer.client import ScorerClient
from tests.utils.stack import ScorerStack, scorer_env

VANILLA = "def run(ctx):\n    return ctx.train_student().predict_proba(ctx.targets)\n"


def test_embedded_default_scores_a_method_end_to_end(tmp_path, aar_home):
    (aar_home / "cache").mkdir(exist_ok=True)
    (tmp_path / "cache").symlink_to(aar_home / "cache", target_is_directory=True)
    stack = ScorerStack(scorer_env(tmp_path), tmp_path)
    try:
        stack.start_api()
        stack.start_worker()
        with ScorerClient(stack.url, stack.admin_token) as admin:
            token = admin.issue_token("solo").token
        with ScorerClient(stack.url, token) as client:
            sub = client.wait(client.submit_method("rt-polarity", VANILLA).id, timeout=240)
            assert sub.status == "done", sub.error
            assert sub.result.pgr is not None and "per_seed" not in sub.result.model_dump()  # admins only
            assert client.leaderboard("rt-polarity").entries[0].agent == "solo"
        assert (tmp_path / "scorer.db").exists()
        assert (tmp_path / "queue" / "messages").is_dir()
    except Exception:
        print(stack.logs())
        raise
    finally:
        stack.stop()
