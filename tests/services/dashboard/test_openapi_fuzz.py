"""schemathesis over the dashboard's OpenAPI schema against the real scorer and forum: no input produces a 5xx."""

from services.dashboard.api.app import create_app
from services.scorer.client import ScorerClient
from tests.utils.fuzz import control_character_answers, server_errors


def test_no_input_produces_a_server_error(settings, admin, stack, monkeypatch):
    app = create_app(settings)
    campaigns = app.state.runtime.campaigns

    def plan_only(plan):
        """Generated start forms are often valid: save their plans, start no process."""
        plan.save(settings.campaigns_dir / plan.id)
        return campaigns.info(plan)

    monkeypatch.setattr(campaigns, "start", plan_only)
    with ScorerClient(stack.scorer_url, stack.admin_token) as scorer:
        agent = {"Authorization": f"Bearer {scorer.issue_token('dash-fuzz').token}"}
    assert control_character_answers(app, [admin, agent]) == []
    assert server_errors(app, [admin, agent], max_examples=10) == []
