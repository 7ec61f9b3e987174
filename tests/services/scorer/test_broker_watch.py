"""A lost Redis queue is noticed within seconds and the database's queued jobs are sent again.

On e714f4f nothing watched the broker: jobs lost with a non-persistent Redis restart waited for the
reconciler's ``AAR_SCORER_REQUEUE_AFTER_S`` (600 s) (issue 16).
"""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import httpx
import pytest
import redis

from services.common.db import session_scope
from services.common.tokens import new_token
from services.scorer.config import ScorerSettings
from services.scorer.db import crud
from services.scorer.db.migrate import upgrade
from services.scorer.db.models import Submission, utcnow
from services.scorer.worker.broker_watch import BrokerWatch
from services.scorer.worker.celery_app import QUEUE
from tests.utils.stack import RedisServer, ScorerStack, postgres_database, scorer_env, wait_until


@pytest.fixture
def broker():
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def watch(tmp_path, broker):
    """A watch over a private Redis and a fresh Postgres database; ``sent`` records what it re-sends."""
    with postgres_database() as url:
        upgrade(url)
        settings = ScorerSettings(AAR_HOME=str(tmp_path), DATABASE_URL=url, REDIS_URL=broker.url)
        sent: list[str] = []
        watch = BrokerWatch(settings, sent.append)
        watch.sent = sent
        yield watch


def queue(watch: BrokerWatch, n: int, sent_s_ago: float) -> list[str]:
    """``n`` queued jobs in the database, sent ``sent_s_ago`` seconds ago."""
    with session_scope(watch.settings.db_url) as db:
        agent = crud.issue_token(session=db, name=f"a{time.monotonic_ns()}", token=new_token("t"))
        db.flush()
        ids = [crud.new_submission_id() for _ in range(n)]
        for sid in ids:
            db.add(
                Submission(
                    id=sid,
                    agent_id=agent.id,
                    task="rt-polarity",
                    kind="method",
                    payload={},
                    payload_sha256="0" * 64,
                    status="queued",
                    attempts=0,
                    cancel_requested=False,
                    flags=[],
                    compute_seconds=0.0,
                    enqueued_at=utcnow() - timedelta(seconds=sent_s_ago),
                )
            )
    return ids


def test_a_restart_is_noticed_and_the_queued_jobs_are_sent_again(watch, broker):
    ids = queue(watch, 3, sent_s_ago=1)
    watch.redis.rpush(QUEUE, *ids)
    assert watch.check() is None and watch.sent == []
    broker.restart()
    assert watch.check() == "broker restarted"
    assert sorted(watch.sent) == sorted(ids)


def test_a_lost_connection_is_noticed_when_it_comes_back(watch, broker):
    ids = queue(watch, 2, sent_s_ago=1)
    watch.redis.rpush(QUEUE, *ids)
    assert watch.check() is None
    broker.stop()
    assert watch.check() is None  # unreachable: nothing can be sent; the enqueue path logs and stamps nothing
    broker.start()
    assert watch.check() == "broker connection came back"
    assert sorted(watch.sent) == sorted(ids)


def test_an_empty_queue_with_jobs_sent_a_while_ago_is_a_loss(watch):
    fresh = queue(watch, 2, sent_s_ago=0.5)
    assert watch.check() is None  # just sent: possibly in flight to a worker
    old = queue(watch, 2, sent_s_ago=30)
    assert watch.check() == "queue empty while jobs are queued"
    assert sorted(watch.sent) == sorted(fresh + old)
    watch.sent.clear()
    watch.redis.rpush(QUEUE, "x")
    assert watch.check() is None and watch.sent == []


def test_nine_jobs_lost_with_a_redis_restart_are_back_within_30_s(tmp_path):
    """The whole path: a real worker (paused while the jobs are queued, so they sit in Redis), a non-persistent
    Redis restarted under it, the reconciler's own re-send 600 s away. Within 30 s of Redis coming back every
    job has started or is waiting in the new Redis (one worker runs one job at a time)."""
    broker = RedisServer().start()
    try:
        with postgres_database() as url:
            env = scorer_env(tmp_path, DATABASE_URL=url, REDIS_URL=broker.url, AAR_SCORER_REQUEUE_AFTER_S="600")
            stack = ScorerStack(env, tmp_path)
            try:
                stack.start_api()
                worker = stack.start_worker()
                wait_until(lambda: "ready." in (tmp_path / "worker-0.log").read_text(), 120, "the worker")
                os.killpg(worker.pid, signal.SIGSTOP)  # the Celery main process and its pool child
                admin = {"Authorization": f"Bearer {stack.admin_token}"}
                with httpx.Client(base_url=stack.url, timeout=30) as http:
                    token = http.post("/v1/admin/tokens", json={"agent": "a"}, headers=admin).json()["token"]
                    me = {"Authorization": f"Bearer {token}"}
                    body = {"task": "rt-polarity", "kind": "method", "source": "def run(ctx):\n    return None\n"}
                    ids = [http.post("/v1/submissions", json=body, headers=me).json()["id"] for _ in range(9)]
                    # the paused worker's pending BRPOP still takes one: it sits in that worker's socket
                    assert redis.Redis.from_url(broker.url).llen(QUEUE) >= 8
                    broker.restart()
                    back = time.monotonic()
                    os.killpg(worker.pid, signal.SIGCONT)

                    def recovered() -> bool:
                        waiting = b"".join(redis.Redis.from_url(broker.url).lrange(QUEUE, 0, -1))
                        started = [http.get(f"/v1/submissions/{i}", headers=me).json()["started_at"] for i in ids]
                        return all(s is not None or i.encode() in waiting for i, s in zip(ids, started, strict=True))

                    wait_until(recovered, 30, "all nine jobs to be started or queued again")
                    assert time.monotonic() - back <= 30
            finally:
                print(stack.logs())
                stack.stop()
    finally:
        broker.stop()
