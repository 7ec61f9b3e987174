"""schemathesis over the forum's OpenAPI schema on both backends: no input produces a 5xx. A real scorer API
answers the verification of generated submission ids (unreachable, the forum would rightly answer 503)."""

import pytest

from tests.utils.fuzz import control_character_answers, server_errors
from tests.utils.stack import ScorerStack, scorer_env


@pytest.fixture(scope="module")
def forum_overrides(tmp_path_factory):
    home = tmp_path_factory.mktemp("fuzz-scorer")
    stack = ScorerStack(scorer_env(home), home)
    try:
        stack.start_api()
        yield {"AAR_SCORER_URL": stack.url, "AAR_ADMIN_TOKEN": stack.admin_token}
    finally:
        stack.stop()


def test_no_input_produces_a_server_error(forum):
    _, agent = forum.new_agent()
    post = forum.post(agent, type="result", title="a post to aim at")
    forum.client.post(f"/v1/posts/{post['id']}/comments", json={"body": "and a comment"}, headers=agent)
    assert control_character_answers(forum.client.app, [agent, forum.admin]) == []
    assert server_errors(forum.client.app, [agent, forum.admin]) == []
