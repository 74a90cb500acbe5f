"""Calling a Prompt: its kernel and a call's inputs and messages as one chat-completions
request (`providers.openai_chat` sends it).

The template (chat messages, or a text that becomes one user message) is filled with the
inputs (`core.templates`), the call's own messages follow it, and the kernel's model,
parameters and tools go along in OpenAI's names. Every Prompt is called through chat
completions, whatever its `endpoint`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llmtrail.core import templates
from llmtrail.errors import Invalid

# Kernel fields sent under the same name.
PARAMETERS = (
    "max_tokens",
    "temperature",
    "top_p",
    "stop",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "response_format",
)
MESSAGE_FIELDS = ("role", "content", "name", "tool_call_id", "tool_calls")
TOOL_FIELDS = ("name", "description", "parameters", "strict")


def request(
    kernel: Mapping[str, Any],
    inputs: Mapping[str, Any],
    messages: Sequence[Mapping[str, Any]] | None = None,
    tool_choice: Any = None,
    loc: str = "prompt",
) -> dict[str, Any]:
    """The chat-completions body that calls the Prompt (or Agent: `loc`) `kernel` with
    `inputs`, or Invalid naming what is missing (no model, nothing to send)."""
    model = kernel.get("model")
    if not isinstance(model, str) or not model:
        raise Invalid.at(loc, f"the {loc.title()} has no model to call: give its version a `model`")
    sent = [message(m) for m in template_messages(kernel.get("template"), inputs)]
    sent += [message(m) for m in messages or ()]
    if not sent:
        raise Invalid.at(
            "messages", "nothing to send: the Prompt has no template and the call no messages"
        )
    body: dict[str, Any] = {}
    other = kernel.get("other")
    if isinstance(other, dict):  # provider-specific parameters, under the named ones
        body.update(other)
    body.update(model=model, messages=sent)
    body.update({name: kernel[name] for name in PARAMETERS if kernel.get(name) is not None})
    if isinstance(kernel.get("reasoning_effort"), str):
        body["reasoning_effort"] = kernel["reasoning_effort"]
    tools = [tool(t, (loc, "tools", i)) for i, t in enumerate(kernel.get("tools") or ())]
    if tools:
        body["tools"] = tools
    if tool_choice is not None:
        body["tool_choice"] = tool_choice
    return body


def template_messages(template: Any, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The template's messages with `inputs` filled in; a text template is one user message."""
    filled = templates.fill(template, inputs) if template is not None else None
    if isinstance(filled, str):
        return [{"role": "user", "content": filled}] if filled else []
    if isinstance(filled, list):
        return [m for m in filled if isinstance(m, dict)]
    return []


def message(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A chat message as OpenAI takes it: its fields that are set."""
    out = {name: raw[name] for name in MESSAGE_FIELDS if raw.get(name) is not None}
    out.setdefault("role", "user")
    if "content" not in out and "tool_calls" not in out:
        out["content"] = ""
    return out


def tool(function: Any, loc: tuple[str | int, ...] = ("prompt", "tools")) -> dict[str, Any]:
    """A Prompt's tool (a function's name, description and JSON Schema), or an Agent's
    inline one (`{"type": "inline", "json_schema": function}`), as OpenAI's."""
    if isinstance(function, Mapping) and function.get("type") == "inline":
        function = function.get("json_schema")
    if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
        raise Invalid.at(
            loc,
            "a tool the model is given is a function (`name`, `parameters`) or inline"
            " (`json_schema`); linked Tool Files are not served",
        )
    return {
        "type": "function",
        "function": {n: function[n] for n in TOOL_FIELDS if function.get(n) is not None},
    }
