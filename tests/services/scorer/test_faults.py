"""Fault injection (issue 26): while a client submits, every process kind is killed and both stores are
restarted — the worker's pool child, the worker's main process, the API, Redis (no persistence) and a private
Postgres cluster. A client that retries 503s and dropped connections with the same ``Idempotency-Key`` loses
nothing and makes nothing twice; every error it sees is a JSON 503; every job is scored exactly once, and all
are done within a stated time of the last fault."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.utils.stack import (
    PostgresCluster,
    RedisServer,
    ScorerStack,
    running,
    scorer_env,
    share_cache,
    wait_until,
)
from w2s.tasks import TASKS

SUBMISSIONS = 12
RECOVERY_S = 240  # every job done within this of the last fault (docs/scorer.md "Recovery times")
METHOD = "import time\n\ndef run(ctx):\n    time.sleep(2)\n    return ctx.train_student().predict_proba(ctx.targets)\n"


class CarefulClient:
    """Submits each body until it is accepted, with one key per body; records every answer it got."""

    def __init__(self, url: str, token: str):
        self.http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        self.answers: list[tuple[int, str]] = []  # (status, content type) of every response
        self.dropped = 0  # requests that got no response (the API was down)
        self.accepted: dict[str, str] = {}  # key -> submission id

    def submit(self, key: str, body: dict, deadline_s: float = 180) -> None:
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            try:
                answer = self.http.post("/v1/submissions", json=body, headers={"Idempotency-Key": key})
            except httpx.TransportError:
                self.dropped += 1
                time.sleep(0.5)
                continue
            self.answers.append((answer.status_code, answer.headers.get("content-type", "")))
            if answer.status_code == 202:
                self.accepted[key] = answer.json()["id"]
                return
            assert answer.status_code == 503, answer.text
            time.sleep(float(answer.headers.get("retry-after", 1)))
        raise AssertionError(f"{key} was never accepted")

    def poll(self) -> None:
        """List the caller's submissions once, recording the answer (or the dropped connection)."""
        try:
            answer = self.http.get("/v1/submissions")
        except httpx.TransportError:
            self.dropped += 1
            return
        self.answers.append((answer.status_code, answer.headers.get("content-type", "")))


def pool_child(worker_pid: int) -> int | None:
    """The Celery pool child of a worker's main process, if it has one."""
    children = Path(f"/proc/{worker_pid}/task/{worker_pid}/children")
    pids = children.read_text().split() if children.exists() else []
    return int(pids[0]) if pids else None


@pytest.fixture
def faulty_stack(tmp_path, aar_home):
    pg = PostgresCluster().start()
    redis = RedisServer().start()
    home = tmp_path / "home"
    home.mkdir()
    share_cache(home, aar_home / "cache")
    env = scorer_env(home, DATABASE_URL=pg.url, REDIS_URL=redis.url, AAR_SCORER_SUBMISSIONS_PER_DAY="1000")
    stack = ScorerStack(env, home)
    stack.pg, stack.redis = pg, redis
    try:
        with running(stack):
            yield stack
    finally:
        redis.stop()
        pg.stop()


def test_faults_lose_nothing_score_nothing_twice_and_answer_json(faulty_stack):
    stack = faulty_stack
    admin = httpx.Client(base_url=stack.url, headers={"Authorization": f"Bearer {stack.admin_token}"}, timeout=30)
    token = admin.post("/v1/admin/tokens", json={"agent": "careful"}).json()["token"]
    client = CarefulClient(stack.url, token)
    ids = TASKS["rt-polarity"].splits["test_public"].inputs.ids
    bodies = {
        f"k{i}": {"task": "rt-polarity", "kind": "method", "source": METHOD + f"# {i}\n"}
        if i % 3 == 0
        else {"task": "rt-polarity", "kind": "predictions", "predictions": {x: (i % 10) / 10 for x in ids}}
        for i in range(SUBMISSIONS)
    }
    errors: list[BaseException] = []

    done_submitting = threading.Event()

    def submit_all() -> None:
        try:
            for key, body in bodies.items():
                client.submit(key, body)
                time.sleep(1.5)  # the submissions span the faults
        except BaseException as exc:
            errors.append(exc)
        finally:
            done_submitting.set()

    def poll() -> None:  # an agent watching its submissions all along
        while not done_submitting.is_set():
            client.poll()
            time.sleep(0.2)

    submitter = threading.Thread(target=submit_all)
    poller = threading.Thread(target=poll)
    submitter.start()
    poller.start()

    def read(path: str, **params) -> dict:
        """A JSON answer read as a careful client reads: through 503s and a restarting API."""
        for _ in range(120):
            try:
                answer = admin.get(path, params=params)
            except httpx.TransportError:
                time.sleep(0.5)
                continue
            if answer.status_code != 503:
                assert answer.status_code == 200, answer.text
                return answer.json()
            time.sleep(0.5)
        raise AssertionError(f"{path} could not be read for a minute")

    def status(sid: str) -> str:
        return read(f"/v1/submissions/{sid}")["status"]

    # 1. The worker's pool child, mid-job (Celery's main process starts another).
    wait_until(lambda: any(status(s) == "running" for s in list(client.accepted.values())), 300, "a running job")
    child = pool_child(stack.workers[-1].pid)
    assert child is not None
    os.kill(child, signal.SIGKILL)
    # 2. The worker's main process and its child, then a new worker.
    time.sleep(3)
    stack.kill_worker(stack.workers[-1])
    stack.start_worker()
    # 3. The API (its reconciler with it), then a new one on the same port.
    time.sleep(2)
    stack.kill_api()
    time.sleep(1)
    stack.start_api()
    # 4. Redis, with no persistence: whatever was queued in it is gone.
    time.sleep(2)
    stack.redis.restart()
    # 5. Postgres: a fast restart cuts every connection of every process.
    time.sleep(2)
    stack.pg.restart()
    last_fault = time.monotonic()

    submitter.join(300)
    poller.join(30)
    assert not submitter.is_alive() and not errors, errors
    finals = ("done", "failed", "dead", "cancelled")
    wait_until(
        lambda: all(status(s) in finals for s in client.accepted.values()),
        RECOVERY_S,
        "every job to end after the faults",
    )
    recovered_in = time.monotonic() - last_fault

    # Nothing lost, nothing made twice: one submission per key, and no other.
    assert len(client.accepted) == SUBMISSIONS
    rows = read("/v1/submissions", limit=500)["data"]
    assert sorted(r["id"] for r in rows) == sorted(client.accepted.values())
    # Every job scored exactly once.
    for sid in client.accepted.values():
        events = [e["event"] for e in read("/v1/admin/audit", submission_id=sid)["data"]]
        sub = read(f"/v1/submissions/{sid}")
        assert sub["status"] == "done", (sid, sub["error"], events)
        assert events.count("done") == 1, (sid, events)
    # Every error the client saw was a JSON 503.
    errors_seen = [(code, kind) for code, kind in client.answers if code >= 400]
    assert all(code == 503 and kind == "application/json" for code, kind in errors_seen), errors_seen
    print(
        f"faults: {len(errors_seen)} JSON 503s, {client.dropped} dropped connections, "
        f"all {SUBMISSIONS} jobs done {recovered_in:.0f} s after the last fault"
    )
