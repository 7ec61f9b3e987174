"""Tools that act inside the agent's own sandbox: bash, python, files, and the notebook.

Every command runs with a timeout (the sandbox kills the whole process tree) and its output is
capped; a timeout or a missing file comes back to the model as a tool error.
"""

from __future__ import annotations

import posixpath
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from sandbox.base import SizeLimitError
from workers.agent.records import ExecData
from workers.agent.tools.base import CallContext, Tool, ToolError, ToolReply

WORKSPACE = "/workspace"
NOTEBOOK = "NOTEBOOK.md"
NOTEBOOK_MAX_BYTES = 64 * 1024  # AAR_AGENT_NOTEBOOK_MAX_BYTES
NOTE_ROOM = 256  # of a cut notebook's bytes, what the note saying so may take


def resolve(path: str) -> str:
    """A sandbox path: relative paths are under ``/workspace``."""
    if not path or "\x00" in path:
        raise ToolError("path must be a non-empty string")
    return posixpath.normpath(path if path.startswith("/") else posixpath.join(WORKSPACE, path))


def format_exec(result) -> str:
    """Exit code, then stdout and stderr, as the model reads them."""
    parts = [f"exit code {result.exit_code}" + (" (output truncated)" if result.truncated else "")]
    if result.stdout:
        parts.append(f"--- stdout\n{result.stdout}")
    if result.stderr:
        parts.append(f"--- stderr\n{result.stderr}")
    return "\n".join(parts)


def run_command(sandbox, argv: list[str], timeout_s: float, stdin: bytes | None = None) -> ToolReply:
    """Run ``argv`` in the sandbox: its output as the model reads it, and its exit code as ``ExecData``."""
    result = sandbox.exec(argv, stdin=stdin, timeout=timeout_s)
    data = ExecData(exit_code=result.exit_code, timed_out=result.timed_out, truncated=result.truncated)
    if result.timed_out:
        message = f"timed out after {timeout_s:.0f} s; the process tree was killed\n{format_exec(result)}"
        raise ToolError(message, data)
    return ToolReply(format_exec(result), data)


def read_text(sandbox, path: str) -> str:
    try:
        data = sandbox.read_file(resolve(path), text=False)
    except FileNotFoundError:
        raise ToolError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise ToolError(f"{path} is a directory; use list_files") from None
    except PermissionError:
        raise ToolError(f"permission denied: {path}") from None
    except SizeLimitError as exc:
        raise ToolError(f"{path} is over {exc.limit} bytes; read it in parts with bash (head, sed)") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ToolError(f"{path} is not UTF-8 text ({len(data)} bytes)") from None


def write_text(sandbox, path: str, content: str) -> None:
    try:
        sandbox.write_file(resolve(path), content.encode("utf-8"))
    except (PermissionError, IsADirectoryError, NotADirectoryError, SizeLimitError) as exc:
        raise ToolError(f"cannot write {path}: {exc}") from None


class BashInput(BaseModel):
    command: str = Field(description="a bash command line, run in /workspace")
    timeout_s: float = Field(
        120,
        gt=0,
        le=3600,
        description="kill the command (and its children) after this (capped by the worker's tool timeout)",
    )


class PythonInput(BaseModel):
    code: str = Field(description="a Python program, run with python3 in /workspace")
    timeout_s: float = Field(300, gt=0, le=3600)


class ReadInput(BaseModel):
    path: str = Field(description="file path; relative paths are under /workspace")
    offset: int = Field(0, ge=0, description="first line to return (0-based)")
    limit: int = Field(400, ge=1, le=5000, description="how many lines to return")


class WriteInput(BaseModel):
    path: str
    content: str


class EditInput(BaseModel):
    path: str
    old: str = Field(min_length=1, description="exact text to replace; must occur exactly once")
    new: str


class ListInput(BaseModel):
    path: str = "."
    depth: int = Field(2, ge=1, le=6)


class NotebookAppend(BaseModel):
    text: str = Field(
        min_length=1, max_length=NOTEBOOK_MAX_BYTES, description="what to remember: results, ideas, what failed and why"
    )


class NoInput(BaseModel):
    pass


def workspace_tools(sandbox, timeout_cap_s: float = 600) -> list[Tool]:
    """bash, python, read/write/edit file and list files, bound to ``sandbox``; no command runs longer than
    ``timeout_cap_s`` (``AAR_AGENT_TOOL_TIMEOUT_S``) or past the agent's time budget."""

    def bash(a: BashInput, ctx: CallContext) -> ToolReply:
        return run_command(sandbox, ["bash", "-c", a.command], ctx.time_left(min(a.timeout_s, timeout_cap_s)))

    def python(a: PythonInput, ctx: CallContext) -> ToolReply:
        timeout = ctx.time_left(min(a.timeout_s, timeout_cap_s))
        return run_command(sandbox, ["python3", "-"], timeout, stdin=a.code.encode())

    def read_file(a: ReadInput, _: CallContext) -> str:
        lines = read_text(sandbox, a.path).splitlines()
        chunk = lines[a.offset : a.offset + a.limit]
        more = len(lines) - a.offset - len(chunk)
        return "\n".join(chunk) + (f"\n… {more} more lines (use offset)" if more > 0 else "")

    def write_file(a: WriteInput, _: CallContext) -> str:
        write_text(sandbox, a.path, a.content)
        return f"wrote {len(a.content.encode())} bytes to {resolve(a.path)}"

    def edit_file(a: EditInput, _: CallContext) -> str:
        text = read_text(sandbox, a.path)
        count = text.count(a.old)
        if count != 1:
            raise ToolError(f"`old` occurs {count} times in {a.path}; it must occur exactly once")
        write_text(sandbox, a.path, text.replace(a.old, a.new))
        return f"edited {resolve(a.path)}"

    def list_files(a: ListInput, ctx: CallContext) -> ToolReply:
        argv = ["find", resolve(a.path), "-mindepth", "1", "-maxdepth", str(a.depth), "-printf", "%y %10s  %P\n"]
        return run_command(sandbox, argv, ctx.time_left(min(30, timeout_cap_s)))

    return [
        Tool("bash", "Run a bash command in your sandbox (no network).", BashInput, bash),
        Tool(
            "python", "Run a Python program in your sandbox; the W2S engine (`w2s`) is importable.", PythonInput, python
        ),
        Tool("read_file", "Read lines of a text file in your sandbox.", ReadInput, read_file),
        Tool("write_file", "Create or overwrite a text file in your sandbox.", WriteInput, write_file),
        Tool("edit_file", "Replace one exact, unique snippet of a text file.", EditInput, edit_file),
        Tool("list_files", "List files under a folder (type, size, path).", ListInput, list_files),
    ]


def read_notebook(sandbox, max_bytes: int = NOTEBOOK_MAX_BYTES) -> str:
    """The notebook's text ('' when it does not exist yet), at most ``max_bytes``: of a longer one only its
    head and tail are read, with a note of what was left out between them."""
    try:
        head, size = sandbox.read_range(resolve(NOTEBOOK), 0, max_bytes)
        if size <= max_bytes:
            return head.decode("utf-8", errors="replace")
        keep = (max_bytes - NOTE_ROOM) // 2
        tail, _ = sandbox.read_range(resolve(NOTEBOOK), size - keep, keep)
    except FileNotFoundError:
        return ""
    except (IsADirectoryError, PermissionError) as exc:
        return f"({NOTEBOOK} cannot be read: {exc})"
    return _cut(head[:keep], tail, size, max_bytes)


def bound_notebook(text: str, max_bytes: int = NOTEBOOK_MAX_BYTES) -> str:
    """``text`` if it fits in ``max_bytes`` (UTF-8), else its head and tail with a note between them."""
    data = text.encode()
    if len(data) <= max_bytes:
        return text
    keep = (max_bytes - NOTE_ROOM) // 2
    return _cut(data[:keep], data[-keep:], len(data), max_bytes)


def _cut(head: bytes, tail: bytes, size: int, max_bytes: int) -> str:
    """``head`` and ``tail`` cut at line ends, with a note of what was left out between them."""
    head = head[: head.rfind(b"\n") + 1] or head
    tail = tail[tail.find(b"\n") + 1 :] or tail
    note = (
        f"\n… [{size - len(head) - len(tail)} bytes of the notebook left out here: it was {size} bytes, over "
        f"the limit of {max_bytes}; keep it shorter] …\n\n"
    )
    return head.decode("utf-8", errors="ignore") + note + tail.decode("utf-8", errors="ignore")


def notebook_tools(sandbox, mirror: Path | None = None, max_bytes: int = NOTEBOOK_MAX_BYTES) -> list[Tool]:
    """A persistent notebook (``/workspace/NOTEBOOK.md``): carried into every fresh session as memory.

    Each append is also copied to ``mirror`` on the host (outside the sandbox), so the memory survives a
    worker crash that loses the workspace. What is read, written back and mirrored is at most ``max_bytes``
    (``AAR_AGENT_NOTEBOOK_MAX_BYTES``): a longer notebook loses its middle, and says so."""

    def notebook_read(_: NoInput, __: CallContext) -> str:
        return read_notebook(sandbox, max_bytes) or "(the notebook is empty)"

    def notebook_append(a: NotebookAppend, _: CallContext) -> str:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        text = bound_notebook(f"{read_notebook(sandbox, max_bytes)}\n## {stamp}\n{a.text.strip()}\n", max_bytes)
        write_text(sandbox, NOTEBOOK, text)
        if mirror is not None:
            mirror.parent.mkdir(parents=True, exist_ok=True)
            mirror.write_text(text)
        full = len(text.encode()) > max_bytes * 3 // 4
        return f"noted; the notebook is {len(text.encode())} of at most {max_bytes} bytes" if full else "noted"

    return [
        Tool("notebook_read", "Read your notebook: your memory across sessions.", NoInput, notebook_read),
        Tool(
            "notebook_append",
            "Append an entry to your notebook (it survives context resets). "
            f"It keeps at most {max_bytes} bytes: past that its middle is cut.",
            NotebookAppend,
            notebook_append,
        ),
    ]
