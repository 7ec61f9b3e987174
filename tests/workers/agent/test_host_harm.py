"""Attacks through the agent's tools that harm the host without escaping (issue 25), on both providers.

Each failed on d4820ad: a folder of hard links made ``forum_upload`` read the archive into memory twice and
hash every link in full with no timeout, a huge notebook was mirrored whole on the host and sent whole as the
next session's opening message, and a tool name reached the live view as rich markup and escape sequences.
"""

from __future__ import annotations

import io
import json
import resource
import time
import uuid

import pytest
from rich.console import Console

from sandbox.base import SandboxSpec
from sandbox.escape import leftovers
from services.common.localstack import LocalStack
from services.forum.client import ForumClient
from services.forum.snapshot import MAX_UNPACKED_BYTES
from tests.sandbox.conftest import PROVIDERS, make_provider
from tests.utils.scripted_llm import ScriptedLLM, reply, text, tool_use
from tests.workers.agent.test_loop import researcher
from workers.agent.budget import Limits
from workers.agent.campaign.plan import AgentPlan, CampaignPlan
from workers.agent.campaign.runner import AgentRun, Campaign
from workers.agent.config import AgentSettings
from workers.agent.prompts import opening_message
from workers.agent.tools.base import Toolbox
from workers.agent.tools.forum import forum_tools
from workers.agent.tools.workspace import notebook_tools, read_notebook, workspace_tools

pytestmark = pytest.mark.timeout(300)
MiB = 1 << 20
UNREACHABLE = "http://127.0.0.1:9"  # the forum is down: what matters happens before the upload
# Rich markup (a hyperlink), an OSC 8 hyperlink, a window-title change and a screen clear.
EVIL = "[link=https://evil.example]x[/link]\x1b]8;;https://evil.example\x1b\\y\x1b]8;;\x1b\\\x1b]0;pwned\x07\x1b[2J"


@pytest.fixture(scope="module", params=PROVIDERS)
def sandbox(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("sandboxes")
    label = f"harm-{uuid.uuid4().hex[:8]}"
    box = make_provider(request.param, root).start(SandboxSpec(label=label, disk_mb=768, tmp_mb=64))
    yield box
    box.discard()
    assert leftovers(root, label) == []


@pytest.fixture(autouse=True)
def empty_workspace(sandbox):
    yield
    sandbox.exec(["sh", "-c", "rm -rf /workspace/* /workspace/.[!.]*"], timeout=120)


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def test_forum_upload_of_hard_links_is_refused_before_hashing(sandbox):
    """A 100 MiB file with 40 hard links (4.1 GiB as a snapshot) is refused from its listing, in bounded time
    and memory, without a byte of it hashed or read into host memory."""
    make = "rm -rf up && mkdir up && head -c 100M /dev/urandom > up/w && for i in $(seq 40); do ln up/w up/l$i; done"
    assert sandbox.exec(["sh", "-c", make], timeout=120).success
    toolbox = Toolbox(forum_tools(ForumClient(UNREACHABLE, "token"), sandbox))
    before, start = _peak_rss(), time.monotonic()
    outcome = toolbox.run("forum_upload", {"path": "up"}, "toolu_links")
    elapsed, grown = time.monotonic() - start, _peak_rss() - before
    assert outcome.is_error and f"{MAX_UNPACKED_BYTES}" in outcome.content, outcome.content
    assert elapsed < 5, f"refusing took {elapsed:.1f} s"
    assert grown < 64 * MiB, f"host memory grew by {grown / MiB:.0f} MiB"


@pytest.fixture(scope="module")
def forum(tmp_path_factory):
    """A real forum (embedded default) and an agent's client of it."""
    home = tmp_path_factory.mktemp("forum-home")
    with LocalStack(home, env={"DATABASE_URL": "", "REDIS_URL": ""}) as stack:
        stack.start_forum_api()
        with ForumClient(stack.forum_url, stack.admin_token) as admin:
            token = admin.issue_token(f"agent-{uuid.uuid4().hex[:6]}").token
        with ForumClient(stack.forum_url, token) as client:
            yield client


def test_forum_upload_of_a_folder_within_budget_reaches_the_forum(sandbox, forum):
    """Hard links travel as regular files, each hashed once; links out and other non-files stay behind."""
    make = "mkdir -p ok/sub && head -c 2M /dev/urandom > ok/sub/w && ln ok/sub/w ok/l1 && ln ok/sub/w ok/l2"
    assert sandbox.exec(["sh", "-c", make + " && ln -s /etc/passwd ok/out && mkfifo ok/fifo"]).success
    outcome = Toolbox(forum_tools(forum, sandbox)).run("forum_upload", {"path": "ok"}, f"toolu_{uuid.uuid4().hex[:8]}")
    assert not outcome.is_error, outcome.content
    manifest = forum.artifact(json.loads(outcome.content)["sha256"]).manifest
    assert sorted(e.path for e in manifest) == ["l1", "l2", "sub/w"]
    assert len({e.sha256 for e in manifest}) == 1 and {e.size for e in manifest} == {2 * MiB}


def test_forum_upload_ends_at_the_tool_deadline(sandbox):
    """A folder within the byte budget but too large to pack before the deadline ends as a tool error then."""
    assert sandbox.exec(["sh", "-c", "mkdir -p big && head -c 300M /dev/urandom > big/w"], timeout=120).success
    toolbox = Toolbox(forum_tools(ForumClient(UNREACHABLE, "token"), sandbox))
    start = time.monotonic()
    outcome = toolbox.run("forum_upload", {"path": "big"}, "toolu_big", deadline=time.monotonic() + 1.0)
    elapsed = time.monotonic() - start
    assert outcome.is_error and "time" in outcome.content, outcome.content
    assert elapsed < 6, f"a 1 s deadline let the upload run {elapsed:.1f} s"


def test_a_huge_notebook_is_truncated_in_the_mirror_and_the_next_opening(sandbox, tmp_path):
    cap = AgentSettings().notebook_max_bytes
    fill = "open('NOTEBOOK.md', 'w').write('# first line\\n' + ('x' * 99 + '\\n') * (400 * 1024))"
    assert sandbox.exec(["python3", "-c", fill]).success  # 40 MiB
    mirror = tmp_path / "notebook.md"
    toolbox = Toolbox(notebook_tools(sandbox, mirror=mirror))
    outcome = toolbox.run("notebook_append", {"text": "latest finding"}, "toolu_nb")
    assert not outcome.is_error, outcome.content
    assert mirror.stat().st_size <= cap, f"the host mirror is {mirror.stat().st_size} bytes"
    kept = mirror.read_text()
    assert kept.startswith("# first line") and "latest finding" in kept and "left out" in kept
    opening = opening_message(2, read_notebook(sandbox), "a direction")
    assert len(opening.encode()) <= cap + 1024 and "latest finding" in opening
    assert sandbox.exec(["stat", "-c", "%s", "NOTEBOOK.md"]).stdout.strip() == str(len(kept.encode()))


def test_a_tool_name_never_reaches_the_live_view_as_markup(sandbox, tmp_path):
    turn = [tool_use(EVIL, {}), tool_use("bash", {"command": "true"})]
    statuses: list[str] = []
    with ScriptedLLM([reply(turn, "tool_use"), reply([text("done")]), reply([text("done")])]) as llm:
        r = researcher(llm, tmp_path)
        r.toolbox = Toolbox(workspace_tools(sandbox))
        r.should_stop = lambda: bool(statuses.append(r.status))
        r.run()
    assert statuses and not any("evil" in s or "\x1b" in s for s in statuses), statuses
    plan = CampaignPlan(
        id="c1",
        task="t",
        agents=[AgentPlan(name="a", direction=EVIL, seed=0)],
        backend="offline",
        model="claude-opus-4-6",
        agent_limits=Limits(),
        campaign_limits=Limits(),
    )
    campaign = Campaign(tmp_path, plan, AgentSettings(), tmp_path)
    campaign.runs = [AgentRun(plan.agents[0], researcher=r, outcome=f"crashed: {EVIL}")]
    for status in [*statuses, f"tool {EVIL}", None]:  # None: the run's outcome shows instead
        r.status, campaign.runs[0].outcome = (status, None) if status else (r.status, f"crashed: {EVIL}")
        rendered = _render(campaign)
        assert "\x1b]" not in rendered, "a hyperlink or another OSC sequence reached the terminal"
        assert "\x1b[2J" not in rendered and "\x07" not in rendered, "escape sequences reached the terminal"


def _render(campaign: Campaign) -> str:
    buffer = io.StringIO()
    Console(file=buffer, force_terminal=True, color_system="truecolor", width=300).print(campaign.table())
    return buffer.getvalue()
