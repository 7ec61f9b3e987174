"""The OpenAI-compatible backend (e.g. vLLM) in the same loop, against the scripted server."""

from tests.utils.scripted_llm import ScriptedLLM, failure
from tests.workers.agent.test_loop import tools
from workers.agent.backends.openai_compat import OpenAIBackend
from workers.agent.budget import Budget, Limits, PriceTable
from workers.agent.config import AgentSettings
from workers.agent.loop import Researcher
from workers.agent.transcript import Transcript, read_records


def completion(message: dict, finish: str, prompt=900, completion_tokens=60, cached=0) -> dict:
    return {
        "id": "chatcmpl-1",
        "model": "qwen",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached},
        },
    }


def test_tool_calls_round_trip_through_chat_completions(tmp_path):
    call = {"id": "call_1", "type": "function", "function": {"name": "echo", "arguments": '{"text": "hi"}'}}
    script = [
        failure(429, "0.2"),
        completion({"role": "assistant", "content": "trying", "tool_calls": [call]}, "tool_calls", cached=500),
        completion({"role": "assistant", "content": "done"}, "stop"),
        completion({"role": "assistant", "content": "really done"}, "stop"),
    ]
    calls: list[str] = []
    with ScriptedLLM(openai_turns=script) as llm:
        settings = AgentSettings(backend="openai", openai_base_url=f"{llm.base_url}/v1", model="qwen", max_idle_turns=2)
        transcript = Transcript(tmp_path / "t.jsonl")
        reason = Researcher(
            name="q",
            backend=OpenAIBackend(settings, on_api_error=lambda e: transcript.write("api_error", **e)),
            toolbox=tools(calls),
            system_prompt="sys",
            opening=lambda s: "go",
            transcript=transcript,
            budget=Budget(Limits()),
            prices=PriceTable({"*": {"input": 0, "output": 0, "cache_write": 0, "cache_read": 0}}),
            settings=settings,
        ).run()
    assert reason == "finished" and calls == ["hi"]
    second = llm.requests[2]
    assert second["messages"][0] == {"role": "system", "content": "sys"}
    assert second["messages"][2]["tool_calls"][0]["function"]["name"] == "echo"
    assert second["messages"][3] == {"role": "tool", "tool_call_id": "call_1", "content": "echo: hi"}
    assert second["tools"][0]["function"]["parameters"]["properties"]["text"]["type"] == "string"
    found = read_records(tmp_path / "t.jsonl")
    assert [r.status for r in found if r.type == "api_error"] == [429]
    first_call = next(r for r in found if r.type == "model_call")
    assert first_call.usage.cache_read_input_tokens == 500 and first_call.usage.input_tokens == 400
