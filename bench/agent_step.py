"""Agent step overhead, excluding LLM time: the worker's own cost per model call + tool call.

The real ``anthropic`` SDK talks to a scripted Messages API server on 127.0.0.1 that answers at once;
each step is one ``tool_use`` reply and one tool call. Per step, from the transcript:

    overhead = (time between consecutive model calls) - (model call latency) - (tool duration)

i.e. budget checks, transcript writes (fsync'd), message bookkeeping and tool dispatch. Run with a pure
in-process tool and with ``bash true`` in a bubblewrap sandbox (whose exec round trip is reported
apart, as tool time).

    .venv/bin/python -m bench.agent_step [--steps 200]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
from pathlib import Path

import numpy as np
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from tests.utils.scripted_llm import ScriptedLLM, reply, text, tool_use, usage
from workers.agent.backends.anthropic import AnthropicBackend
from workers.agent.budget import Budget, Limits, PriceTable
from workers.agent.config import AgentSettings
from workers.agent.loop import Researcher
from workers.agent.records import ModelCall, ToolResult
from workers.agent.tools.base import Tool, Toolbox
from workers.agent.tools.workspace import workspace_tools
from workers.agent.transcript import Transcript, read_records


class EchoIn(BaseModel):
    text: str


def run_steps(steps: int, toolbox: Toolbox, call: dict, folder: Path) -> dict[str, np.ndarray]:
    script = [
        reply([text("step"), tool_use(call["name"], call["input"])], "tool_use", usage(3000, 200, 0, 2800))
        for _ in range(steps)
    ] + [reply([text("done")]), reply([text("done")])]
    with ScriptedLLM(script) as llm:
        settings = AgentSettings(
            backend="anthropic", anthropic_api_key="sk-bench", anthropic_base_url=llm.base_url, max_idle_turns=2
        )
        transcript = Transcript(folder / "bench.jsonl")
        Researcher(
            name="bench",
            backend=AnthropicBackend(settings),
            toolbox=toolbox,
            system_prompt="bench " * 500,
            opening=lambda s: "go",
            transcript=transcript,
            budget=Budget(Limits(max_usd=1000)),
            prices=PriceTable.load(),
            settings=settings,
        ).run()
        transcript.close()
    records = read_records(folder / "bench.jsonl")
    calls = [r for r in records if isinstance(r, ModelCall)]
    tools = [r for r in records if isinstance(r, ToolResult)]
    at = np.array([r.at.timestamp() for r in calls])
    latency = np.array([r.latency_s for r in calls])
    tool_s = np.array([r.duration_s for r in tools])
    n = min(len(tool_s), len(at) - 1)
    step = at[1 : n + 1] - at[:n]
    llm = latency[1 : n + 1]
    return {"step": step, "llm": llm, "tool": tool_s[:n], "overhead": step - llm - tool_s[:n]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    table = Table(
        "tool",
        "steps",
        "overhead p50 ms",
        "overhead p95 ms",
        "tool p50 ms",
        "fake LLM p50 ms",
        title=f"agent step overhead, {os.cpu_count()} cores, {platform.machine()}",
    )
    with tempfile.TemporaryDirectory() as tmp:
        pure = Toolbox([Tool("echo", "echo", EchoIn, lambda a, ctx: a.text)])
        variants = [("in-process echo", pure, {"name": "echo", "input": {"text": "x"}})]
        try:
            from sandbox.base import SandboxSpec
            from sandbox.registry import get_provider

            box = get_provider("bwrap", root=Path(tmp) / "sandboxes").start(SandboxSpec(label="bench-agent-step"))
            variants.append(
                ("bash `true` (bwrap)", Toolbox(workspace_tools(box)), {"name": "bash", "input": {"command": "true"}})
            )
        except Exception as exc:  # no bubblewrap here: the in-process row still stands
            box = None
            Console(stderr=True).print(f"skipping the sandbox row: {exc}")
        try:
            for i, (label, toolbox, call) in enumerate(variants):
                folder = Path(tmp) / str(i)
                folder.mkdir()
                m = run_steps(args.steps, toolbox, call, folder)
                ms = {k: v * 1000 for k, v in m.items()}
                table.add_row(
                    label,
                    str(len(ms["step"])),
                    f"{np.percentile(ms['overhead'], 50):.2f}",
                    f"{np.percentile(ms['overhead'], 95):.2f}",
                    f"{np.percentile(ms['tool'], 50):.2f}",
                    f"{np.percentile(ms['llm'], 50):.2f}",
                )
        finally:
            if box is not None:
                box.stop()
    Console().print(table)


if __name__ == "__main__":
    main()
