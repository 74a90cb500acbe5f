"""One OTLP span as one log (contract §5): the envelope (ids, times, status), the kind of
record, then each field from the first convention that has it; what no field took is kept
in `metadata.otel`. Pure: spans in, `LogData` out."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from llmtrail.api.otlp.mapping import conventions as c
from llmtrail.api.otlp.mapping import messages as m
from llmtrail.api.otlp.mapping.attributes import (
    Attributes,
    Unparsed,
    boolean,
    decode_all,
    empty,
    integer,
    json_value,
    number,
    structured,
    text,
)
from llmtrail.core.ids import iso, to_utc_naive
from llmtrail.core.logs import LogData

EPOCH = datetime(1970, 1, 1)
KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
STATUS_ERROR = 2
# Span ids name logs: the same (trace, span) is the same log however often it is delivered.
SPAN_NAMESPACE = uuid.UUID("6f1c1d2e-5a0b-4c8e-9d3f-0a7b2c4e6f81")


class SpanRejected(ValueError):
    """A span that cannot be a log (no usable trace or span id); its siblings go on."""


@dataclass(frozen=True)
class Origin:
    """Where a span comes from: its resource and instrumentation scope, decoded once per group."""

    resource: dict[str, Any] = field(default_factory=dict)
    scope: dict[str, Any] = field(default_factory=dict)


def log_id(trace_id: str, span_id: str) -> str:
    """The log's id, derived from the span's ids, in the form of the log API's ids."""
    return uuid.uuid5(SPAN_NAMESPACE, f"{trace_id}:{span_id}").hex


def span_ids(span: Span) -> tuple[str, str, str | None]:
    """(trace id, span id, parent span id) as lowercase hex; refuses ids of the wrong length
    or all zero."""
    for name, raw, size in (("traceId", span.trace_id, 16), ("spanId", span.span_id, 8)):
        if len(raw) != size or not any(raw):
            raise SpanRejected(f"{name} must be {size} bytes, not all zero (got {len(raw)})")
    parent = span.parent_span_id
    if parent and len(parent) != 8:
        raise SpanRejected(f"parentSpanId must be 8 bytes (got {len(parent)})")
    return span.trace_id.hex(), span.span_id.hex(), parent.hex() if any(parent) else None


def moment(nanos: int) -> datetime:
    return EPOCH + timedelta(microseconds=nanos // 1000)


def to_log(span: Span, origin: Origin) -> tuple[LogData, list[str]]:
    """The log of one span, and the warnings its mapping raised (for `partial_success`)."""
    trace_id, span_id, parent_id = span_ids(span)
    attrs = Attributes(decode_all(span.attributes))
    _derive(attrs)
    notes = _Notes()
    events = _events(span, attrs, notes)
    log_type = _classify(attrs, events)
    log = LogData(
        unique_id=log_id(trace_id, span_id),
        log_type=log_type,
        log_method="otlp",
        trace_unique_id=trace_id,
        span_unique_id=span_id,
        span_parent_id=parent_id,
        span_name=(span.name or text(attrs.first("span_name", c.SPAN_NAME_FALLBACK)) or "")[:255]
        or None,
    )
    extra: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    _times(log, span, attrs, events)
    _status(log, span, attrs, events, notes)
    _model(log, attrs, metadata)
    _usage(log, attrs, metadata, notes)
    _parameters(log, attrs, extra, metadata)
    _io(log, attrs, events, extra, metadata, notes)
    _identifiers(log, attrs, extra)
    _metadata(attrs, metadata, notes)
    log.stream = log.stream or log.time_to_first_token is not None  # first-token evidence
    metadata["otel"] = _otel(span, origin, attrs, events, notes)
    log.metadata = metadata
    log.extra = extra or None
    return log, notes.warnings


class _Notes:
    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.stacktrace: str | None = None


# -- derived keys ------------------------------------------------------------------------------


def _derive(attrs: Attributes) -> None:
    """Objects held as JSON, read key by key as attributes of their own."""
    for source in (c.INV, "embedding.invocation_parameters"):
        if isinstance(params := structured(attrs.get(source)), dict):
            attrs.derive(source, params)
    usage = structured(attrs.get("langfuse.observation.usage_details"))
    if isinstance(usage, dict):
        # Langfuse's buckets are disjoint: its input leaves cache reads and writes out.
        cached = sum(
            integer(v) or 0 for k, v in usage.items() if k.startswith("input_") or "cache" in k
        )
        values = dict(usage)
        if integer(usage.get("input")) is not None:
            values["prompt_tokens"] = integer(usage["input"]) + cached
        if integer(usage.get("output")) is not None:
            reasoning = integer(usage.get("output_reasoning_tokens")) or 0
            values["completion_tokens"] = integer(usage["output"]) + reasoning
        attrs.derive("langfuse.usage", values)
        attrs.take("langfuse.observation.usage_details")
    if isinstance(cost := structured(attrs.get("langfuse.observation.cost_details")), dict):
        attrs.derive("langfuse.cost", cost)
        attrs.take("langfuse.observation.cost_details")
    if isinstance(params := structured(attrs.get("langfuse.observation.model.parameters")), dict):
        attrs.derive(c.INV, params)
        attrs.take("langfuse.observation.model.parameters")


# -- events ------------------------------------------------------------------------------------


@dataclass
class _Events:
    """What the span's events say; the events no field takes are `kept`."""

    prompt: list[m.Message] = field(default_factory=list)
    completion: list[m.Message] = field(default_factory=list)
    prompt_text: Any = None  # deprecated `gen_ai.content.prompt` / `.completion` strings
    completion_text: Any = None
    first_token: int | None = None  # nanoseconds
    first_chunk: int | None = None
    exception: str | None = None
    kept: list[dict[str, Any]] = field(default_factory=list)


def _events(span: Span, attrs: Attributes, notes: _Notes) -> _Events:
    found = _Events()
    runs: dict[str, dict[str, Any]] = {}
    for event in span.events:
        values = decode_all(event.attributes)
        name = event.name
        if name == "exception":
            kind, message = values.get("exception.type"), values.get("exception.message")
            found.exception = ": ".join(str(p) for p in (kind, message) if p) or "exception"
            notes.stacktrace = values.get("exception.stacktrace") or notes.stacktrace
        elif name == c.FIRST_TOKEN_EVENT:
            found.first_token = found.first_token or event.time_unix_nano
        elif name in c.CHUNK_EVENTS:
            found.first_chunk = found.first_chunk or event.time_unix_nano
            run = runs.setdefault(name, {"name": name, "count": 0})
            run["count"] += 1
            run.setdefault("first_time", iso(moment(event.time_unix_nano)))
            run["last_time"] = iso(moment(event.time_unix_nano))
        elif name == "gen_ai.content.prompt":
            found.prompt_text = values.get("gen_ai.prompt")
        elif name == "gen_ai.content.completion":
            found.completion_text = values.get("gen_ai.completion")
        elif name == "gen_ai.client.inference.operation.details":
            for key, value in values.items():  # the span's own attributes win
                attrs.values.setdefault(key, value)
        elif (said := m.event_message(name, values, notes.warnings)) is not None:
            (found.prompt if said[0] == "prompt" else found.completion).append(said[1])
        else:
            when = iso(moment(event.time_unix_nano))
            found.kept.append({"name": name, "time": when, "attributes": values})
    found.kept += runs.values()
    return found


# -- what kind of record -----------------------------------------------------------------------


def _classify(attrs: Attributes, events: _Events) -> str:
    """`log_type` by the first convention that declares one (§5.2: span-type declarations
    rank above `gen_ai.operation.name`; never inferred from context attributes)."""
    declared = attrs.get(c.LOG_TYPE_KEYS[0]) or attrs.get(c.LOG_TYPE_KEYS[1])
    if isinstance(declared, str) and declared:
        attrs.first("log_type", c.LOG_TYPE_KEYS)
        return c.LOG_TYPE_ALIASES.get(declared, declared)
    langfuse = str(attrs.get("langfuse.observation.type") or "").lower()
    if langfuse in c.LANGFUSE_TYPES:
        attrs.first("log_type", ("langfuse.observation.type",))
        has_messages = isinstance(structured(attrs.get(c.LANGFUSE_INPUT)), list)
        return "chat" if langfuse == "generation" and has_messages else c.LANGFUSE_TYPES[langfuse]
    kind = str(attrs.get("openinference.span.kind") or "").upper()
    if kind in c.OPENINFERENCE_KINDS:
        attrs.first("log_type", ("openinference.span.kind",))
        prompts_only = any(k.startswith("llm.prompts.") for k in attrs.values) and not any(
            k.startswith("llm.input_messages.") for k in attrs.values
        )
        return "completion" if kind == "LLM" and prompts_only else c.OPENINFERENCE_KINDS[kind]
    traceloop = attrs.get("traceloop.span.kind")
    if traceloop in c.TRACELOOP_KINDS:
        attrs.first("log_type", ("traceloop.span.kind",))
        return traceloop
    operation = attrs.get("gen_ai.operation.name")
    if operation in c.OPERATIONS:
        attrs.first("log_type", ("gen_ai.operation.name",))
        return c.OPERATIONS[operation]
    if (request := attrs.get("llm.request.type")) in c.REQUEST_TYPES:
        attrs.first("log_type", ("llm.request.type",))
        return c.REQUEST_TYPES[request]
    if operation in c.CUSTOM_OPERATIONS:
        attrs.first("log_type", ("gen_ai.operation.name",))
        return c.CUSTOM_OPERATIONS[operation]
    if "gen_ai.tool.name" in attrs or "gen_ai.tool.call.id" in attrs:
        return "tool"
    has_model = any(key in attrs for key in c.MODEL)
    has_call = any(k.startswith(c.USAGE_PREFIXES) for k in attrs.values) or any(
        k.startswith(("gen_ai.input.messages", "llm.input_messages", "gen_ai.prompt."))
        for k in attrs.values
    )
    return "chat" if has_model and (has_call or events.prompt) else "custom"


# -- envelope ----------------------------------------------------------------------------------


def _times(log: LogData, span: Span, attrs: Attributes, events: _Events) -> None:
    start, end = span.start_time_unix_nano, span.end_time_unix_nano
    log.start_time = moment(start)
    log.timestamp = log.end_time = moment(end) if end else log.start_time
    log.latency = (end - start) / 1e9 if end and end >= start else None
    ttft = number(attrs.first("time_to_first_token", c.TTFT_SECONDS, number))
    if ttft is None and events.first_token:
        ttft = (events.first_token - start) / 1e9
    if ttft is None and events.first_chunk and span.dropped_events_count == 0:
        ttft = (events.first_chunk - start) / 1e9
    if ttft is None and (first := attrs.get("langfuse.observation.completion_start_time")):
        ttft = _seconds_since(first, log.start_time)
        if ttft is not None:
            attrs.first("time_to_first_token", ("langfuse.observation.completion_start_time",))
    if ttft is None and (ms := attrs.first("time_to_first_token", c.TTFT_MS, number)):
        ttft = ms / 1000
    if ttft is not None:
        log.time_to_first_token = max(0.0, min(ttft, log.latency if log.latency else ttft))


def _seconds_since(value: Any, start: datetime) -> float | None:
    """An ISO time (older Langfuse SDKs encode it as JSON twice) less `start`, in seconds."""
    raw = str(value).strip().strip('"')
    try:
        when = to_utc_naive(datetime.fromisoformat(raw.replace("Z", "+00:00")))
    except ValueError:
        return None
    return (when - start).total_seconds()


def _status(log: LogData, span: Span, attrs: Attributes, events: _Events, notes: _Notes) -> None:
    """failed on an ERROR status, an `error.type` or a Langfuse ERROR level; an exception event
    alone does not fail a span (it may have been handled)."""
    level = str(attrs.get("langfuse.observation.level") or "").upper()
    error_type = text(attrs.first("status", ("error.type",)))
    failed = span.status.code == STATUS_ERROR or error_type is not None or level == "ERROR"
    if level == "ERROR":
        attrs.take("langfuse.observation.level")
    code = integer(
        attrs.first("status_code", ("http.response.status_code", "http.status_code"), integer)
    )
    if code is None and error_type and error_type.isdigit() and len(error_type) == 3:
        code = int(error_type)
    log.status = "failed" if failed else "success"
    log.status_code = code or (500 if failed else 200)
    if failed:
        log.error_message = (
            span.status.message
            or events.exception
            or text(attrs.first("error_message", ("error.message",)))
            or text(attrs.first("error_message", ("langfuse.observation.status_message",)))
            or error_type
        )


# -- fields ------------------------------------------------------------------------------------


def _model(log: LogData, attrs: Attributes, metadata: dict[str, Any]) -> None:
    log.model = text(attrs.first("model", c.MODEL))
    requested = text(attrs.get("gen_ai.request.model") or attrs.get("llm.request.model_name"))
    if requested and requested != log.model:
        metadata["request_model"] = requested
        attrs.take(*c.REQUEST_MODEL)
    if log.log_type not in c.MODEL_CALLS:
        return  # frameworks name themselves as the provider of their spans (pitfall 19)
    raw = text(attrs.first("provider_id", c.PROVIDER))
    if raw:
        log.provider_id = c.PROVIDERS.get(raw.lower(), raw.lower())
        if log.provider_id != raw:
            metadata["provider_raw"] = raw


def _usage(log: LogData, attrs: Attributes, metadata: dict[str, Any], notes: _Notes) -> None:
    log.prompt_tokens = attrs.first("prompt_tokens", c.PROMPT_TOKENS, integer)
    log.completion_tokens = attrs.first("completion_tokens", c.COMPLETION_TOKENS, integer)
    log.total_request_tokens = attrs.first("total_request_tokens", c.TOTAL_TOKENS, integer)
    log.prompt_cache_hit_tokens = attrs.first("prompt_cache_hit_tokens", c.CACHE_READ, integer)
    log.prompt_cache_creation_tokens = attrs.first(
        "prompt_cache_creation_tokens", c.CACHE_WRITE, integer
    )
    log.reasoning_tokens = attrs.first("reasoning_tokens", c.REASONING, integer)
    cached = (log.prompt_cache_hit_tokens or 0) + (log.prompt_cache_creation_tokens or 0)
    if log.prompt_tokens is not None and cached > log.prompt_tokens:
        log.prompt_tokens += cached  # an exclusive count (raw Anthropic style), made inclusive
        notes.warnings.append("input tokens excluded cached tokens; they were added back")
    log.cost = number(attrs.first("cost", c.COST, number))
    usage = {}
    for prefix in c.USAGE_PREFIXES:
        for key, value in attrs.take_prefix(prefix).items():
            usage[key] = integer(value) if integer(value) is not None else value
    if usage:
        metadata["usage"] = usage


def _parameters(
    log: LogData, attrs: Attributes, extra: dict[str, Any], metadata: dict[str, Any]
) -> None:
    for name, keys in c.PARAMETERS.items():
        value = attrs.first(name, keys, json_value)
        if not empty(value) and not isinstance(value, Unparsed):
            extra[name] = value
    log.stream = bool(attrs.first("stream", c.STREAM, boolean))
    formats = attrs.first("encoding_format", c.ENCODING_FORMAT)
    if formats:
        extra["encoding_format"] = formats[0] if isinstance(formats, list) else formats
    if "response_format" not in extra and attrs.get("gen_ai.output.type") == "json":
        extra["response_format"] = {"type": "json_object"}
    if tools := _tools(attrs):
        extra["tools"] = tools
    invocation = structured(attrs.get(c.INV))
    if isinstance(invocation, dict):
        metadata["invocation_parameters"] = invocation


def _tool(definition: Any) -> Any:
    """A tool definition as OpenAI's `{"type": "function", "function": {...}}`."""
    if not isinstance(definition, dict):
        return definition
    if isinstance(definition.get("function"), dict):
        return {"type": definition.get("type") or "function", **definition}
    function = {k: v for k, v in definition.items() if k not in ("type", "input_schema")}
    if "input_schema" in definition and "parameters" not in function:
        function["parameters"] = definition["input_schema"]
    return {"type": "function", "function": function}


def _tools(attrs: Attributes) -> list[Any] | None:
    single = attrs.first("tools", ("gen_ai.tool.definitions",), structured)
    if isinstance(single, list):
        return [_tool(t) for t in single]
    for prefix, inner in (
        ("llm.tools", "tool.json_schema"),
        ("gen_ai.tool.definitions", None),
        ("llm.request.functions", None),
    ):
        items = attrs.take_indexed(prefix)
        if items:
            attrs.mapped_from.setdefault("tools", prefix)
            return [
                _tool(structured(item.get(inner)) if inner else _unflatten(item))
                for _, item in items
            ]
    return None


def _unflatten(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: structured(v) if k in ("parameters", "input_schema") else v for k, v in item.items()}


def _identifiers(log: LogData, attrs: Attributes, extra: dict[str, Any]) -> None:
    log.thread_identifier = text(attrs.first("thread_identifier", c.THREAD))
    log.customer_identifier = text(attrs.first("customer_identifier", c.CUSTOMER))
    for name, keys in c.IDENTIFIERS.items():
        if (value := text(attrs.first(name, keys))) is not None:
            setattr(log, name, value)
    for name, keys in c.EXTRA_FIELDS.items():
        if not empty(value := attrs.first(name, keys, json_value)):
            extra[name] = value


def _metadata(attrs: Attributes, metadata: dict[str, Any], notes: _Notes) -> None:
    for name, keys in c.METADATA_KEYS.items():
        if not empty(value := attrs.first(f"metadata.{name}", keys, json_value)):
            metadata.setdefault(name, value)
    reasons = attrs.first("metadata.finish_reasons", c.FINISH_REASON_KEYS, json_value)
    if not empty(reasons) and "finish_reasons" not in metadata:
        reasons = reasons if isinstance(reasons, list) else [reasons]
        metadata["finish_reasons"] = [m.finish_reason(r) for r in reasons]
    for prefix, name in c.METADATA_PREFIXES:
        if found := attrs.take_prefix(prefix):
            metadata.setdefault(name, {}).update(found)
    free: dict[str, Any] = {}
    for key in c.METADATA_OBJECTS:
        value = json_value(attrs.get(key)) if key in attrs else None
        flattened = attrs.take_prefix(key)  # `metadata.a` keys; the JSON form wins on clashes
        if isinstance(value, dict):
            attrs.take(key)
            for k, v in {**flattened, **value}.items():
                free.setdefault(k, v)
        else:
            for k, v in flattened.items():
                free.setdefault(k, v)
            if value is not None:  # kept as sent, never dropped (pitfall 21)
                attrs.take(key)
                free.setdefault(key.rsplit(".", 1)[-1], value)
                notes.warnings.append(f"{key} is not a JSON object; kept as sent")
    for key, value in attrs.take_prefix(c.ASSOCIATION).items():  # less those promoted
        free.setdefault(key, value)
    for key, value in free.items():
        metadata.setdefault(key, value)


# -- input and output --------------------------------------------------------------------------


def _io(
    log: LogData,
    attrs: Attributes,
    events: _Events,
    extra: dict[str, Any],
    metadata: dict[str, Any],
    notes: _Notes,
) -> None:
    prompt = _prompt_messages(attrs, events, notes.warnings)
    completion = _completion_messages(attrs, events, notes.warnings, metadata)
    kind = log.log_type
    if kind in c.MODEL_CALLS:
        for name, key in (("full_request", "input.value"), ("full_response", "output.value")):
            if not empty(value := attrs.first(name, (key,), json_value)):
                extra[name] = value
    if kind in c.CHAT_LIKE:
        log.prompt_messages = prompt
        log.input = prompt if prompt is not None else _value(attrs, "input", c.OTHER_INPUT[:1])
        if completion:
            log.completion_message = completion[0]
            log.output = completion[0]
            if len(completion) > 1:
                extra["completion_messages"] = completion
        else:
            log.output = _value(attrs, "output", c.OTHER_OUTPUT[:1])
    elif kind == "completion":
        log.input = _texts(attrs, "llm.prompts", "prompt.text") or _text_of(prompt)
        log.output = _texts(attrs, "llm.choices", "completion.text") or _text_of(completion)
        log.prompt_messages = prompt
    elif kind == "embedding":
        log.input = _texts(attrs, "embedding.embeddings", "embedding.text") or _value(
            attrs, "input", ("input.value",)
        )
    elif kind == "tool":
        log.input = _value(attrs, "input", c.TOOL_INPUT)
        log.output = _value(attrs, "output", c.TOOL_OUTPUT)
    else:
        log.input = _value(attrs, "input", c.OTHER_INPUT[:1]) or _converted(prompt, attrs, "input")
        log.input = log.input or _value(attrs, "input", c.OTHER_INPUT[1:])
        log.output = _value(attrs, "output", c.OTHER_OUTPUT[:1]) or _converted(
            completion, attrs, "output"
        )
        log.output = log.output or _value(attrs, "output", c.OTHER_OUTPUT[1:]) or _documents(attrs)
    if completion and (calls := completion[0].get("tool_calls")):
        extra["tool_calls"] = calls


def _value(attrs: Attributes, field_name: str, keys: tuple[str, ...]) -> Any:
    """An input or output attribute: JSON parsed, a cut JSON string kept raw."""
    value = attrs.first(field_name, keys, json_value)
    return str(value) if isinstance(value, Unparsed) else value


def _converted(messages: list[m.Message] | None, attrs: Attributes, name: str) -> Any:
    if messages:
        attrs.mapped_from.setdefault(name, f"gen_ai.{name}.messages")
    return messages or None


def _text_of(messages: list[m.Message] | None) -> Any:
    return messages[-1].get("content") if messages else None


def _texts(attrs: Attributes, prefix: str, key: str) -> Any:
    found = [item.get(key) for _, item in attrs.take_indexed(prefix) if key in item]
    if not found:
        return None
    attrs.mapped_from.setdefault(
        "input" if "prompt" in key or "embedding" in key else "output", prefix
    )
    return found[0] if len(found) == 1 else found


def _documents(attrs: Attributes) -> Any:
    items = attrs.take_indexed("retrieval.documents")
    if not items:
        return None
    attrs.mapped_from.setdefault("output", "retrieval.documents")
    return [{k.removeprefix("document."): v for k, v in item.items()} for _, item in items]


def _prompt_messages(
    attrs: Attributes, events: _Events, warnings: list[str]
) -> list[m.Message] | None:
    messages = attrs.first("prompt_messages", ("gen_ai.input.messages",), structured)
    system = m.system_text(attrs.get("gen_ai.system_instructions"))
    if isinstance(messages, list):
        found = m.genai_messages(messages, warnings) or []
    else:
        found = _flattened(attrs, "prompt_messages", warnings, input_side=True)
        if found is None and events.prompt:
            found = events.prompt
        if found is None:
            found = _deprecated(attrs, "gen_ai.prompt", events.prompt_text, "prompt_messages")
        if found is None:
            request = structured(attrs.get("input.value"))
            if isinstance(request, dict) and isinstance(request.get("messages"), list):
                found = request["messages"]
    if system is not None:
        attrs.take("gen_ai.system_instructions")
        found = found or []
        if not any(msg.get("role") == "system" for msg in found):
            found = [{"role": "system", "content": system}, *found]
    return found or None


def _completion_messages(
    attrs: Attributes, events: _Events, warnings: list[str], metadata: dict[str, Any]
) -> list[m.Message] | None:
    outputs = attrs.first("completion_message", ("gen_ai.output.messages",), structured)
    if isinstance(outputs, list):
        reasons = [m.finish_reason(o.get("finish_reason")) for o in outputs if isinstance(o, dict)]
        if any(reasons):
            metadata["finish_reasons"] = reasons
        return m.genai_messages(outputs, warnings)
    found = _flattened(attrs, "completion_message", warnings, input_side=False)
    if found is None and events.completion:
        found = events.completion
    if found is None:
        found = _deprecated(
            attrs, "gen_ai.completion", events.completion_text, "completion_message"
        )
    if found is None:
        response = structured(attrs.get("output.value"))
        choices = response.get("choices") if isinstance(response, dict) else None
        if isinstance(choices, list):
            found = [ch["message"] for ch in choices if isinstance(ch, dict) and "message" in ch]
    return found or None


def _flattened(
    attrs: Attributes, name: str, warnings: list[str], *, input_side: bool
) -> list[m.Message] | None:
    """OpenInference `llm.{input,output}_messages.<i>.*`, then OpenLLMetry `gen_ai.{prompt,
    completion}.<i>.*` (numeric keys only: `gen_ai.prompt.name` is another attribute)."""
    oi = "llm.input_messages" if input_side else "llm.output_messages"
    if items := attrs.take_indexed(oi):
        attrs.mapped_from.setdefault(name, oi)
        return [m.oi_message(item, warnings) for _, item in items]
    oll = "gen_ai.prompt" if input_side else "gen_ai.completion"
    if items := attrs.take_indexed(oll):
        attrs.mapped_from.setdefault(name, oll)
        return m.fold_thinking([m.oll_message(item, warnings) for _, item in items])
    return None


def _deprecated(attrs: Attributes, key: str, from_event: Any, name: str) -> Any:
    """`gen_ai.prompt` / `gen_ai.completion` as one string (span attribute or event): a
    message list when it parses as one, else the raw text, still kept."""
    raw = attrs.first(name, (key,)) if key in attrs else from_event
    if raw is None:
        return None
    parsed = json_value(raw)
    if isinstance(parsed, list) and all(isinstance(x, dict) for x in parsed):
        return parsed
    return [{"role": "assistant" if "completion" in key else "user", "content": str(raw)}]


# -- what the span keeps of OpenTelemetry ------------------------------------------------------


def _otel(
    span: Span, origin: Origin, attrs: Attributes, events: _Events, notes: _Notes
) -> dict[str, Any]:
    otel: dict[str, Any] = {"kind": KINDS.get(span.kind, str(span.kind))}
    if origin.resource:
        otel["resource"] = origin.resource
    if origin.scope:
        otel["scope"] = origin.scope
    if rest := attrs.rest():
        otel["attributes"] = rest
    if events.kept:
        otel["events"] = events.kept
    if attrs.mapped_from:
        otel["mapped_from"] = attrs.mapped_from
    if span.trace_state:
        otel["trace_state"] = span.trace_state
    if span.flags:
        otel["flags"] = span.flags
    if span.links:
        otel["links"] = [
            {
                "trace_id": link.trace_id.hex(),
                "span_id": link.span_id.hex(),
                "attributes": decode_all(link.attributes),
            }
            for link in span.links
        ]
    for name in ("attributes", "events", "links"):
        if dropped := getattr(span, f"dropped_{name}_count"):
            otel[f"dropped_{name}_count"] = dropped
            notes.warnings.append(f"the sender dropped {dropped} {name} of this span")
    if notes.stacktrace:
        otel["exception"] = {"stacktrace": notes.stacktrace}
    if notes.warnings:
        otel["warnings"] = notes.warnings
    return otel
