"""schemathesis over the scorer's OpenAPI schema on both backends: no input produces a 5xx."""

import pytest
from fastapi.testclient import TestClient

from services.scorer.api.app import create_app
from services.scorer.config import get_settings
from tests.utils.fuzz import control_character_answers, server_errors
from tests.utils.stack import postgres_database


@pytest.fixture(params=["embedded", "postgres"])
def backend(request, app_env, monkeypatch):
    """The scorer's database: SQLite under its home, or a fresh Postgres database."""
    if request.param == "embedded":
        yield request.param
        return
    with postgres_database() as url:
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
        yield request.param


def test_no_input_produces_a_server_error(app_env, backend):
    app = create_app()
    admin = {"Authorization": f"Bearer {app_env['AAR_ADMIN_TOKEN']}"}
    with TestClient(app) as c:
        token = c.post("/v1/admin/tokens", json={"agent": "fuzz"}, headers=admin).json()["token"]
    headers = [{"Authorization": f"Bearer {token}"}, admin]
    assert control_character_answers(app, headers) == []
    assert server_errors(app, headers) == []
