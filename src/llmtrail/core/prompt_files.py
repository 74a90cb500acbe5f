"""Prompts as `.prompt` text, and back: a YAML front matter with the kernel's fields, then
the template's chat messages, each in a tag of its role (`<system>`, `<user>`, ...).

    ---
    model: gpt-4o
    temperature: 0.7
    ---
    <system>
    You answer as {{persona}}.
    </system>
    <user>
    {{question}}
    </user>

A text template (a completion Prompt's) is the body as it is. A template the tags cannot
carry exactly (messages with content parts, tool calls or names, or text holding its own
closing tag) goes in the front matter as `template:` instead, so `parse(dump(k)) == k`
for every kernel.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from llmtrail.errors import Invalid

ROLES = ("system", "developer", "user", "assistant", "tool")
_FRONT = re.compile(r"\A---[ \t]*\n(.*?)^---[ \t]*(?:\n|\Z)", re.S | re.M)
_TAG = re.compile(r"<(" + "|".join(ROLES) + r")>\n?(.*?)\n?</\1>", re.S)
_TEXT_TEMPLATE = "template_format"  # front-matter key telling a text body from messages
# The front matter's order (a kernel's other fields follow, by name): stable whatever order
# the store kept the kernel's keys in.
ORDER = (
    "model",
    "endpoint",
    "provider",
    "template_language",
    "max_tokens",
    "temperature",
    "top_p",
    "stop",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "reasoning_effort",
    "response_format",
    "other",
    "tools",
    "linked_tools",
    "attributes",
)


def dump(kernel: Mapping[str, Any]) -> str:
    """The `.prompt` text of a Prompt's kernel."""
    rank = {name: i for i, name in enumerate(ORDER)}
    names = sorted(kernel, key=lambda k: (rank.get(k, len(ORDER)), k))
    front = {k: kernel[k] for k in names if k != "template" and kernel[k] is not None}
    template = kernel.get("template")
    body = ""
    if isinstance(template, str):
        front[_TEXT_TEMPLATE] = "text"
        body = template
    elif isinstance(template, list) and template and all(map(_taggable, template)):
        body = "\n".join(
            f"<{m['role']}>\n{m.get('content') or ''}\n</{m['role']}>" for m in template
        )
    elif template is not None:
        front["template"] = template
    text = yaml.safe_dump(front, sort_keys=False, allow_unicode=True) if front else ""
    return f"---\n{text}---\n{body}\n" if template is not None else f"---\n{text}---\n"


def _taggable(message: Any) -> bool:
    """Whether a message is just a role and text, which a tag carries exactly."""
    if not isinstance(message, dict) or message.get("role") not in ROLES:
        return False
    content = message.get("content")
    if set(message) - {"role", "content"} or not isinstance(content, str):
        return False
    text = content
    return (
        f"</{message['role']}>" not in text
        and not text.startswith("\n")
        and not text.endswith("\n")
    )


def parse(text: str, loc: tuple[str | int, ...] = ("prompt",)) -> dict[str, Any]:
    """The kernel of a `.prompt` text, or Invalid at `loc` saying what is wrong with it."""
    match = _FRONT.match(text.lstrip("\ufeff"))
    if match is None:
        raise Invalid.at(loc, "a .prompt file starts with a `---` front matter, closed by `---`")
    try:
        front = yaml.safe_load(match.group(1)) if match.group(1).strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        raise Invalid.at(loc, f"the front matter is not YAML{where}") from None
    if not isinstance(front, dict):
        raise Invalid.at(loc, "the front matter is not a mapping of the Prompt's fields")
    kernel = {str(k): v for k, v in front.items()}
    body = text.lstrip("\ufeff")[match.end() :]
    if kernel.pop(_TEXT_TEMPLATE, None) == "text":
        kernel["template"] = body[:-1] if body.endswith("\n") else body
    elif "template" not in kernel and body.strip():
        messages = [{"role": role, "content": content} for role, content in _TAG.findall(body)]
        leftover = _TAG.sub("", body).strip()
        if leftover:
            roles = ", ".join(f"<{r}>" for r in ROLES)
            raise Invalid.at(loc, f"text outside a message tag ({roles}): {leftover[:60]!r}")
        kernel["template"] = messages
    if not isinstance(kernel.get("model"), str) or not kernel["model"]:
        raise Invalid.at(loc, "the front matter names no `model`")
    return kernel
