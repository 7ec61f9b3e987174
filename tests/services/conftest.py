"""Fixtures shared by the cross-service tests: the scorer and forum APIs as real processes on both backends."""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass

import pytest

from services.common.localstack import Service, free_port
from tests.utils.stack import RedisServer, postgres_database, scorer_env


@dataclass
class Apis:
    scorer: str
    forum: str
    admin: dict[str, str]


@pytest.fixture(scope="module", params=["embedded", "postgres"])
def apis(request, tmp_path_factory, aar_home):
    """Scorer and forum API processes on SQLite (embedded) or on Postgres and a private Redis."""
    home = tmp_path_factory.mktemp(f"durable-{request.param}")
    (aar_home / "cache").mkdir(exist_ok=True)
    (home / "cache").symlink_to(aar_home / "cache", target_is_directory=True)
    env = {**os.environ, **scorer_env(home, AAR_SCORER_SUBMISSIONS_PER_DAY="10000")}
    forum_env = {
        "AAR_FORUM_WRITES_PER_MINUTE": "100000",
        "AAR_FORUM_READS_PER_MINUTE": "100000",
        "AAR_SCORER_URL": f"http://127.0.0.1:{free_port()}",
    }
    with ExitStack() as stack:
        databases = {"scorer": "", "forum": ""}
        if request.param == "postgres":
            redis = RedisServer().start()
            stack.callback(redis.stop)
            env["REDIS_URL"] = redis.url
            databases = {name: stack.enter_context(postgres_database()) for name in databases}
        urls = {}
        for name, db in databases.items():
            port = free_port()
            urls[name] = f"http://127.0.0.1:{port}"
            service_env = {**env, **(forum_env if name == "forum" else {}), "DATABASE_URL": db}
            service = Service(
                name, [name, "api", "--port", str(port)], service_env, home / f"{name}.log", f"{urls[name]}/healthz"
            ).start()
            stack.callback(service.stop)
            service.wait_healthy()
        yield Apis(urls["scorer"], urls["forum"], {"Authorization": f"Bearer {env['AAR_ADMIN_TOKEN']}"})
