"""The filter tree: conditions on log fields joined by AND/OR, free of any wire syntax.

`llmtrail.core.filters` parses the API's filter language into it (checking every field,
operator and value); `store.filtering` compiles it into SQL. List filters, evaluation
conditions and dataset queries are all such trees, so one engine selects their logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Negated text matches, by the positive match they negate.
NEGATED_MATCHES = {
    "not_contains": "contains",
    "not_startswith": "startswith",
    "not_endswith": "endswith",
}


@dataclass(frozen=True)
class Condition:
    """`field operator values`, with values already of the field's type.

    For `metadata__KEY`, `key` names the key and `numeric` says whether to compare numbers.
    """

    field: str
    operator: str
    values: tuple[Any, ...] = ()
    key: str | None = None
    numeric: bool = False


@dataclass(frozen=True)
class Group:
    """Conditions and groups, folded left to right, each joined by its own connector."""

    items: tuple[tuple[str, Condition | Group], ...] = field(default_factory=tuple)

    def __bool__(self) -> bool:
        return bool(self.items)
