"""`{{variable}}` templates, filled in one pass so that text inside a value is never taken
for a variable: the LLM judge's prompt and a Humanloop Prompt's template (`populate`).
Strings go in as they are, other values as compact JSON; an unknown variable stays as
written."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

VARIABLE = re.compile(r"\{\{\s*([A-Za-z_]\w*)\s*\}\}")


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def fill_text(template: str, values: Mapping[str, Any]) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        value = values[name]
        return value if isinstance(value, str) else compact(value)

    return VARIABLE.sub(fill, template)


def fill(template: Any, values: Mapping[str, Any]) -> Any:
    """A Prompt template (text, or chat messages whose content is text or text parts) with
    its variables filled; what is not text is kept as it is."""
    if isinstance(template, str):
        return fill_text(template, values)
    if isinstance(template, list):
        return [fill(item, values) for item in template]
    if isinstance(template, dict):
        out = dict(template)
        if "content" in out:
            out["content"] = fill(out["content"], values)
        if out.get("type") == "text" and isinstance(out.get("text"), str):
            out["text"] = fill_text(out["text"], values)
        return out
    return template
