"""The agent's workspace and notebook tools in a real bubblewrap sandbox: results, errors and limits."""

from __future__ import annotations

import time
import uuid

import pytest

from sandbox import get_provider
from sandbox.base import SandboxSpec
from workers.agent.records import ExecData
from workers.agent.tools.base import Toolbox
from workers.agent.tools.workspace import notebook_tools, workspace_tools


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    provider = get_provider("bwrap", tmp_path_factory.mktemp("sandboxes"))
    box = provider.start(SandboxSpec(label=f"tools-{uuid.uuid4().hex[:8]}"))
    yield box
    box.discard()


@pytest.fixture
def toolbox(sandbox, tmp_path):
    return Toolbox(
        workspace_tools(sandbox) + notebook_tools(sandbox, mirror=tmp_path / "notebook.md"), output_chars=2000
    )


def run(toolbox, name, **arguments):
    return toolbox.run(name, arguments, call_id=f"toolu_{uuid.uuid4().hex[:8]}")


def test_files_round_trip_and_edit(toolbox):
    assert not run(toolbox, "write_file", path="methods/m.py", content="x = 1\ny = 2\n").is_error
    assert run(toolbox, "read_file", path="methods/m.py").content == "x = 1\ny = 2"
    assert not run(toolbox, "edit_file", path="methods/m.py", old="y = 2", new="y = 3").is_error
    assert "y = 3" in run(toolbox, "read_file", path="/workspace/methods/m.py").content
    assert "m.py" in run(toolbox, "list_files", path="methods").content
    second = run(toolbox, "read_file", path="methods/m.py", offset=1, limit=1)
    assert second.content == "y = 3"


def test_file_errors_are_tool_errors(toolbox):
    missing = run(toolbox, "read_file", path="nope.txt")
    assert missing.is_error and "no such file" in missing.content
    folder = run(toolbox, "read_file", path="methods")
    assert folder.is_error and "directory" in folder.content
    run(toolbox, "write_file", path="twice.txt", content="a a")
    ambiguous = run(toolbox, "edit_file", path="twice.txt", old="a", new="b")
    assert ambiguous.is_error and "2 times" in ambiguous.content
    binary = run(toolbox, "bash", command="head -c 64 /dev/urandom > blob.bin; printf '\\377' >> blob.bin")
    assert not binary.is_error
    assert "not UTF-8" in run(toolbox, "read_file", path="blob.bin").content


def test_commands_report_exit_codes_and_output(toolbox):
    ok = run(toolbox, "bash", command="echo out; echo err >&2; exit 3")
    assert ok.content.startswith("exit code 3") and "out" in ok.content and "err" in ok.content
    assert ok.data == ExecData(exit_code=3) and not ok.data.ok  # the same result, structured
    py = run(toolbox, "python", code="import w2s, sys; print('engine', w2s.ENGINE_VERSION); sys.exit(0)")
    assert py.content.startswith("exit code 0") and "engine" in py.content and py.data.ok
    assert run(toolbox, "read_file", path="nope.txt").data is None  # a tool without structured results


def test_a_timeout_kills_the_command_and_comes_back_as_an_error(toolbox):
    start = time.monotonic()
    result = run(toolbox, "bash", command="sleep 60 & sleep 60", timeout_s=1)
    assert result.is_error and "timed out after 1 s" in result.content
    assert result.data.timed_out and not result.data.ok
    assert time.monotonic() - start < 15
    assert "sleep 60" not in run(toolbox, "bash", command="ps -eo args").content  # the whole tree is gone


def test_large_output_is_capped_with_head_and_tail(toolbox):
    result = run(toolbox, "bash", command="seq 1 100000")
    assert len(result.content) < 2200 and "characters left out" in result.content
    assert "100000" in result.content and "exit code 0" in result.content


def test_the_notebook_persists_and_is_mirrored_outside_the_sandbox(toolbox, tmp_path):
    assert "empty" in run(toolbox, "notebook_read").content or "##" in run(toolbox, "notebook_read").content
    run(toolbox, "notebook_append", text="logconf beats vanilla by 0.02 PGR")
    run(toolbox, "notebook_append", text="confident filtering hurt")
    text = run(toolbox, "notebook_read").content
    assert text.index("logconf beats") < text.index("confident filtering")
    assert (tmp_path / "notebook.md").read_text() == text
