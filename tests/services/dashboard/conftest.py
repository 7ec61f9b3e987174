"""Dashboard fixtures: real scorer, worker and forum processes (``services.common.localstack``) on a temporary AAR_HOME
that reuses the session's engine caches, and the dashboard app in process."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from services.common.localstack import LocalStack
from services.dashboard.api.app import create_app
from services.dashboard.config import DashboardSettings
from services.forum.client import ForumClient
from services.scorer.client import ScorerClient
from tests.services.dashboard.factories import VANILLA, write_campaign
from tests.utils.stack import scorer_env


@pytest.fixture(scope="session")
def stack(tmp_path_factory, aar_home):
    home = tmp_path_factory.mktemp("dashboard-home")
    (aar_home / "cache").mkdir(exist_ok=True)
    (home / "cache").symlink_to(aar_home / "cache", target_is_directory=True)
    env = scorer_env(home)
    del env["AAR_ADMIN_TOKEN"]  # every process (a campaign child too) reads the shared $AAR_HOME/admin-token
    local = LocalStack(home, env=env)
    try:
        local.start()
    except Exception:
        print(local.logs())
        local.stop()
        raise
    yield local
    local.stop()


@pytest.fixture(scope="session")
def settings(stack):
    return DashboardSettings(
        aar_home=stack.home, scorer_url=stack.scorer_url, forum_url=stack.forum_url, live_cache_s=0
    )


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="session")
def admin(stack):
    return {"Authorization": f"Bearer {stack.admin_token}"}


@pytest.fixture(scope="session")
def new_agent(stack):
    """Issue scorer and forum tokens for an agent; returns its (ScorerClient, ForumClient)."""

    def make(name: str | None = None) -> tuple[ScorerClient, ForumClient]:
        name = name or f"agent-{uuid.uuid4().hex[:8]}"
        with ScorerClient(stack.scorer_url, stack.admin_token) as admin_scorer:
            scorer = admin_scorer.issue_token(name).token
        with ForumClient(stack.forum_url, stack.admin_token) as admin_forum:
            forum = admin_forum.issue_token(name).token
        return ScorerClient(stack.scorer_url, scorer), ForumClient(stack.forum_url, forum)

    return make


@pytest.fixture(scope="session")
def scored(stack, new_agent):
    """A campaign folder whose first agent has one scored method submission (on the leaderboard):
    ``(plan, submission)``. The first one in a session also fills the baseline cache (minutes on 2 cores
    when cold)."""
    plan = write_campaign(stack.home, f"cfix{uuid.uuid4().hex[:8]}", agents=2, started_s_ago=120)
    scorer, _ = new_agent(plan.agents[0].name)
    sub = scorer.wait(scorer.submit_method("rt-polarity", VANILLA).id, timeout=900)
    if sub.status != "done":
        print(stack.logs())
    assert sub.status == "done", sub.error
    return plan, sub
