"""schemathesis over the scorer's OpenAPI schema: no input produces a 5xx."""

from fastapi.testclient import TestClient

from services.scorer.api.app import create_app
from tests.utils.fuzz import server_errors


def test_no_input_produces_a_server_error(app_env):
    app = create_app()
    admin = {"Authorization": f"Bearer {app_env['AAR_ADMIN_TOKEN']}"}
    with TestClient(app) as c:
        token = c.post("/v1/admin/tokens", json={"agent": "fuzz"}, headers=admin).json()["token"]
    assert server_errors(app, [{"Authorization": f"Bearer {token}"}, admin]) == []
