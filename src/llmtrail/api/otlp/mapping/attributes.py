"""OTLP values as plain Python values, and a span's attributes as the mapping reads them:
first non-empty value of an ordered list of keys, with a record of which key fed which field,
so that every attribute no field took is kept (contract §5.2, §5.4)."""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

Parse = Callable[[Any], Any]


def decode(value: AnyValue) -> Any:
    """An `AnyValue` as JSON-safe Python: kvlists as objects, arrays as lists, bytes as
    base64, non-finite doubles as their OTLP/JSON strings."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "int_value":
        return value.int_value
    if kind == "double_value":
        number = value.double_value
        if math.isfinite(number):
            return number
        return "NaN" if math.isnan(number) else ("Infinity" if number > 0 else "-Infinity")
    if kind == "array_value":
        return [decode(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return decode_all(value.kvlist_value.values)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return None  # empty, or a profiles-only string index


def decode_all(pairs: Iterable[KeyValue]) -> dict[str, Any]:
    return {pair.key: decode(pair.value) for pair in pairs}


def empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


class Unparsed(str):
    """A string that looked like JSON and is not (cut by a client's length limit)."""


def json_value(value: Any) -> Any:
    """Structured values as they are; a string holding a JSON object or array parsed (the
    structured attributes may come as JSON strings); an unparseable one as `Unparsed`."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text.startswith(("{", "[")):
        return value
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return Unparsed(value)


def structured(value: Any) -> Any:
    """A JSON-typed attribute: None when it does not parse (the next source is tried)."""
    parsed = json_value(value)
    return None if isinstance(parsed, Unparsed) else parsed


def integer(value: Any) -> int | None:
    """Counts arrive as ints, integral doubles or decimal strings; anything else is no count."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            parsed = float(value)
        except ValueError:
            return None
        return parsed if math.isfinite(parsed) else None
    return None


def boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def indexed(values: Mapping[str, Any], prefix: str) -> list[tuple[int, dict[str, Any]]]:
    """Flattened lists (`prefix.<i>.rest`) as (i, {rest: value}), by number (10 after 9)."""
    start = prefix + "."
    items: dict[int, dict[str, Any]] = {}
    for key, value in values.items():
        if not key.startswith(start):
            continue
        index, _, rest = key[len(start) :].partition(".")
        if index.isdigit() and rest:
            items.setdefault(int(index), {})[rest] = value
    return sorted(items.items())


class Attributes:
    """A span's attributes as the mapping consumes them. `first` takes a field's value from
    the first key that has a non-empty one and records the key in `mapped_from`; `rest`
    is what no field took."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self.used: set[str] = set()
        self.mapped_from: dict[str, str] = {}
        self._derived: dict[str, str] = {}  # key made from an attribute -> that attribute
        self._under: dict[str, list[str]] | None = None  # `a.b` -> the keys under `a.b.`

    def __contains__(self, key: str) -> bool:
        return key in self.values

    def get(self, key: str) -> Any:
        """A value read without consuming it (to classify, or to decide)."""
        return self.values.get(key)

    def derive(self, source: str, values: Mapping[str, Any]) -> None:
        """Keys made from one attribute (an object held as JSON, such as
        `llm.invocation_parameters`), read as attributes of their own: the source counts as
        taken, and its keys that no field takes are kept under their own names."""
        for key, value in values.items():
            derived = f"{source}.{key}"
            if derived not in self.values:
                self.values[derived] = value
                self._derived[derived] = source
        self._under = None

    def first(self, field: str, keys: Iterable[str], parse: Parse | None = None) -> Any:
        for key in keys:
            if key not in self.values:
                continue
            value = self.values[key] if parse is None else parse(self.values[key])
            if not empty(value):
                self.take(key)
                self.mapped_from.setdefault(field, key)
                return value
        return None

    def take(self, *keys: str) -> None:
        for key in keys:
            if key in self.values:
                self.used.add(key)
                if key in self._derived:
                    self.used.add(self._derived[key])

    def take_prefix(self, prefix: str) -> dict[str, Any]:
        """Every attribute under `prefix.` no field took, by the rest of its key."""
        under = self._under if self._under is not None else self._keys_under()
        if prefix not in under:  # most prefixes asked of a span are of other conventions
            return {}
        keys = [k for k in under[prefix] if k not in self.used]
        self.take(*keys)
        return {k[len(prefix) + 1 :]: self.values[k] for k in keys}

    def _keys_under(self) -> dict[str, list[str]]:
        """Each dotted prefix of the keys, with the keys under it: the mapping asks for a
        few dozen prefixes of every span, and a scan of all keys for each cost a third of
        its time."""
        if self._under is None:
            self._under = {}
            for key in self.values:
                dot = key.find(".")
                while dot != -1:
                    self._under.setdefault(key[:dot], []).append(key)
                    dot = key.find(".", dot + 1)
        return self._under

    def take_indexed(self, prefix: str) -> list[tuple[int, dict[str, Any]]]:
        items = indexed(self.values, prefix)
        for index, item in items:
            self.take(*(f"{prefix}.{index}.{rest}" for rest in item))
        return items

    def rest(self) -> dict[str, Any]:
        sources = set(self._derived.values())
        return {
            key: value
            for key, value in self.values.items()
            if key not in self.used and key not in sources
        }
