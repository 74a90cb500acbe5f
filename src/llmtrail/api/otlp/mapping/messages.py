"""Messages of every convention as OpenAI-style chat messages (contract §2.5, §3.3, §4.2).

Parsing is lenient, part by part: a part it does not know is kept raw in the content list
and never drops its siblings (pitfall 17).
"""

from __future__ import annotations

import json
from typing import Any

from llmtrail.api.otlp.mapping.attributes import indexed, json_value

KNOWN_ROLES = {"system", "user", "assistant", "tool", "developer"}
ROLE_ALIASES = {
    "model": "assistant",
    "ai": "assistant",
    "bot": "assistant",
    "human": "user",
    "customer": "user",
    "function": "tool",
    "ipython": "tool",
    "instruction": "system",
}
# GenAI finish reasons -> OpenAI's.
FINISH_REASONS = {"tool_call": "tool_calls"}
Message = dict[str, Any]


def role(value: Any, warnings: list[str]) -> str:
    name = str(value or "user").lower()
    name = ROLE_ALIASES.get(name, name)
    if name not in KNOWN_ROLES:
        warnings.append(f"unknown message role {value!r} kept as sent")
    return name


def arguments(value: Any) -> str:
    """Tool-call arguments as OpenAI carries them: a JSON string (strings pass through)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def tool_call(call_id: Any, name: Any, args: Any) -> dict[str, Any]:
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": arguments(args if args is not None else {})},
    }


def _content(parts: list[Any]) -> Any:
    """One text part alone is the content string; otherwise a list of parts (None if none)."""
    if not parts:
        return None
    if len(parts) == 1 and isinstance(parts[0], dict) and parts[0].get("type") == "text":
        return parts[0]["text"]
    return parts


def _media(part: dict[str, Any]) -> dict[str, Any] | None:
    """A GenAI blob or uri part as an OpenAI image part; None for other modalities."""
    modality = part.get("modality")
    if part.get("type") == "uri" and modality == "image":
        return {"type": "image_url", "image_url": {"url": part.get("uri")}}
    data = part.get("content", part.get("data"))
    if part.get("type") == "blob" and modality in ("image", None) and data is not None:
        mime = part.get("mime_type") or "image/png"
        return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{data}"}}
    return None


def genai_message(item: Any, warnings: list[str]) -> list[Message]:
    """A GenAI ChatMessage or OutputMessage (`{role, parts[], name?}`): one message, plus a
    tool message for each `tool_call_response` part."""
    if not isinstance(item, dict):
        warnings.append("a message that is not an object kept as its text")
        return [{"role": "user", "content": str(item)}]
    parts = item.get("parts")
    if not isinstance(parts, list):
        parts = [{"type": "text", "content": item["content"]}] if "content" in item else []
    message: Message = {"role": role(item.get("role"), warnings)}
    content: list[Any] = []
    calls: list[dict[str, Any]] = []
    replies: list[Message] = []
    reasoning: list[str] = []
    for part in parts:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            content.append({"type": "text", "text": part.get("content")})
        elif kind == "tool_call":
            calls.append(tool_call(part.get("id"), part.get("name"), part.get("arguments")))
        elif kind == "tool_call_response":
            reply = part.get("response", part.get("result"))
            text = reply if isinstance(reply, str) else json.dumps(reply, ensure_ascii=False)
            replies.append({"role": "tool", "tool_call_id": part.get("id"), "content": text})
        elif kind == "reasoning":
            reasoning.append(str(part.get("content") or ""))
        elif kind == "file":
            content.append({"type": "file", "file": {"file_id": part.get("file_id")}})
        elif kind in ("blob", "uri") and (media := _media(part)) is not None:
            content.append(media)
        else:
            content.append(part)  # server tool calls, other modalities, unknown parts: raw
    message["content"] = _content(content)
    if item.get("name"):
        message["name"] = item["name"]
    if calls:
        message["tool_calls"] = calls
    if reasoning:
        message["reasoning_content"] = "".join(reasoning)
    # A message made only of tool results is those results, one tool message each.
    keep = message["content"] is not None or calls or reasoning or not replies
    return [message, *replies] if keep else replies


def genai_messages(value: Any, warnings: list[str]) -> list[Message] | None:
    items = json_value(value)
    if not isinstance(items, list):
        return None
    return [m for item in items for m in genai_message(item, warnings)]


def system_text(value: Any) -> str | None:
    """`gen_ai.system_instructions` (a list of parts) as one system message's text."""
    parts = json_value(value)
    if isinstance(parts, str):
        return parts
    if not isinstance(parts, list):
        return None
    texts = [str(p.get("content", "")) for p in parts if isinstance(p, dict)]
    return "\n".join(texts) if texts else None


def finish_reason(value: Any) -> Any:
    return FINISH_REASONS.get(value, value)


def oi_message(item: dict[str, Any], warnings: list[str]) -> Message:
    """One OpenInference `llm.*_messages.<i>.` group (keys without the prefix)."""
    message: Message = {"role": role(item.get("message.role"), warnings)}
    parts = []
    reasoning = []
    for _, part in indexed(item, "message.contents"):
        kind = part.get("message_content.type")
        if kind == "text":
            parts.append({"type": "text", "text": part.get("message_content.text")})
        elif kind == "image":
            url = part.get("message_content.image.image.url")
            parts.append({"type": "image_url", "image_url": {"url": url}})
        elif kind == "reasoning":
            reasoning.append(str(part.get("message_content.text") or ""))
        else:
            parts.append({k.removeprefix("message_content."): v for k, v in part.items()})
    message["content"] = _content(parts) if parts else item.get("message.content")
    if item.get("message.name"):
        message["name"] = item["message.name"]
    if item.get("message.tool_call_id"):
        message["tool_call_id"] = item["message.tool_call_id"]
    calls = [
        tool_call(
            call.get("tool_call.id"),
            call.get("tool_call.function.name"),
            call.get("tool_call.function.arguments"),
        )
        for _, call in indexed(item, "message.tool_calls")
    ]
    if calls:
        message["tool_calls"] = calls
    if item.get("message.function_call_name"):
        message["function_call"] = {
            "name": item["message.function_call_name"],
            "arguments": item.get("message.function_call_arguments_json"),
        }
    if reasoning:
        message["reasoning_content"] = "".join(reasoning)
    return message


def oll_message(item: dict[str, Any], warnings: list[str]) -> Message:
    """One OpenLLMetry legacy `gen_ai.prompt.<i>.` / `gen_ai.completion.<i>.` group."""
    content = item.get("content")
    parsed = json_value(content)
    if isinstance(parsed, list) and all(isinstance(p, dict) and "type" in p for p in parsed):
        content = parsed  # the provider's content parts, as OpenAI parts
    message: Message = {"role": role(item.get("role"), warnings), "content": content}
    if item.get("tool_call_id"):
        message["tool_call_id"] = item["tool_call_id"]
    calls = [
        tool_call(call.get("id"), call.get("name"), call.get("arguments"))
        for _, call in indexed(item, "tool_calls")
    ]
    if calls:
        message["tool_calls"] = calls
    if item.get("refusal"):
        message["refusal"] = item["refusal"]
    return message


def fold_thinking(messages: list[Message]) -> list[Message]:
    """Anthropic instrumentations (<= 0.49) write thinking as a message of role `thinking`:
    its text goes into the next assistant message's `reasoning_content`."""
    out: list[Message] = []
    pending: list[str] = []
    for message in messages:
        if message.get("role") == "thinking":
            pending.append(str(message.get("content") or ""))
            continue
        if pending and message.get("role") == "assistant":
            message["reasoning_content"] = "".join(pending)
            pending = []
        out.append(message)
    return out


def event_message(name: str, body: Any, warnings: list[str]) -> tuple[str, Message] | None:
    """A deprecated GenAI message event (`gen_ai.{system,user,assistant,tool}.message`,
    `gen_ai.choice`) as ("prompt" or "completion", message)."""
    if not isinstance(body, dict):
        body = {"content": body}
    if name == "gen_ai.choice":
        inner = body.get("message") if isinstance(body.get("message"), dict) else {}
        message: Message = {
            "role": role(inner.get("role") or "assistant", warnings),
            "content": inner.get("content"),
        }
        calls = body.get("tool_calls") or inner.get("tool_calls")
        if isinstance(json_value(calls), list):
            message["tool_calls"] = json_value(calls)
        return "completion", message
    kinds = {
        "gen_ai.system.message": "system",
        "gen_ai.user.message": "user",
        "gen_ai.assistant.message": "assistant",
        "gen_ai.tool.message": "tool",
    }
    if name not in kinds:
        return None
    message = {"role": role(body.get("role") or kinds[name], warnings)}
    message["content"] = body.get("content")
    if kinds[name] == "tool" and body.get("id"):
        message["tool_call_id"] = body["id"]
    calls = json_value(body.get("tool_calls"))
    if isinstance(calls, list) and calls:
        message["tool_calls"] = calls
    return "prompt", message
