"""Which attribute feeds which field, in precedence order (contract §5.2): the rules of every
convention in one table. Keywords AI / Respan first, then Langfuse, current GenAI, OpenInference,
deprecated GenAI and OpenLLMetry legacy keys; derived values come last, in `spans`."""

from __future__ import annotations

KA = ("keywordsai", "respan")

# -- what kind of record a span is (§2.2, §3.1, §4.1, §4.2, §4.4)
LOG_TYPE_KEYS = tuple(f"{p}.entity.log_type" for p in KA)
LOG_TYPE_ALIASES = {
    "trace": "workflow",
    "step": "task",
    "function": "tool",
    "llm": "generation",
    "model": "generation",
}
LANGFUSE_TYPES = {
    "generation": "generation",
    "embedding": "embedding",
    "agent": "agent",
    "tool": "tool",
    "chain": "workflow",
    "retriever": "task",
    "guardrail": "guardrail",
    "evaluator": "task",
    "span": "custom",
    "event": "custom",
}
OPENINFERENCE_KINDS = {
    "LLM": "chat",
    "EMBEDDING": "embedding",
    "CHAIN": "workflow",
    "AGENT": "agent",
    "TOOL": "tool",
    "RETRIEVER": "task",
    "RERANKER": "task",
    "GUARDRAIL": "guardrail",
    "EVALUATOR": "task",
    "PROMPT": "task",
    "DECISION": "generation",
}
TRACELOOP_KINDS = ("workflow", "task", "agent", "tool")
_MEMORY = (
    "search_memory",
    "create_memory",
    "update_memory",
    "upsert_memory",
    "delete_memory",
    "create_memory_store",
    "delete_memory_store",
)
OPERATIONS = {
    "chat": "chat",
    "text_completion": "completion",
    "generate_content": "chat",
    "embeddings": "embedding",
    "retrieval": "task",
    "execute_tool": "tool",
    "create_agent": "agent",
    "invoke_agent": "agent",
    "invoke_workflow": "workflow",
    "plan": "task",
    "apply_guardrail": "guardrail",
    "fetch_response": "task",
    **dict.fromkeys(_MEMORY, "task"),
}
REQUEST_TYPES = {"chat": "chat", "completion": "completion", "embedding": "embedding"}
REQUEST_TYPES["rerank"] = "task"
CUSTOM_OPERATIONS = {
    "execute_task": "task",
    "agent_step": "task",
    "vector_db_retrieve": "task",
    "llm_request": "chat",
}
# Records of a model call: they carry a provider and are priced from their tokens.
MODEL_CALLS = ("chat", "completion", "response", "embedding", "generation")
CHAT_LIKE = ("chat", "response", "generation")

# -- the model and its provider (§5.2, §5.3)
MODEL = (
    "model",
    "langfuse.observation.model.name",
    "gen_ai.response.model",
    "llm.response.model_name",
    "llm.model_name",
    "gen_ai.request.model",
    "llm.request.model_name",
    "embedding.model_name",
    "reranker.model_name",
    "decision.model_name",
)
REQUEST_MODEL = ("gen_ai.request.model", "llm.request.model_name")
PROVIDER = ("gen_ai.provider.name", "llm.provider", "gen_ai.system", "llm.system")
PROVIDERS = {
    "openai": "openai",
    **dict.fromkeys(
        ("azure.ai.openai", "az.ai.openai", "azure", "azure.ai.inference", "az.ai.inference"),
        "azure",
    ),
    "anthropic": "anthropic",
    **dict.fromkeys(("aws.bedrock", "aws", "amazon", "bedrock"), "aws"),
    **dict.fromkeys(
        ("gcp.gemini", "gcp.vertex_ai", "gcp.gen_ai", "google", "vertexai", "vertex_ai", "gemini"),
        "google",
    ),
    **dict.fromkeys(("mistral_ai", "mistralai"), "mistral"),
    **dict.fromkeys(("x_ai", "xai"), "x-ai"),
    **dict.fromkeys(("moonshot_ai", "moonshot"), "moonshotai"),
    **dict.fromkeys(("together_ai", "together"), "together"),
}

# -- usage and cost (§5.5); Langfuse's usage object is read as `langfuse.usage.*` (derived)
PROMPT_TOKENS = (
    "prompt_tokens",
    "langfuse.usage.prompt_tokens",
    "gen_ai.usage.input_tokens",
    "llm.token_count.prompt",
    "gen_ai.usage.prompt_tokens",
    "decision.token_count.input",
)
COMPLETION_TOKENS = (
    "completion_tokens",
    "langfuse.usage.completion_tokens",
    "gen_ai.usage.output_tokens",
    "llm.token_count.completion",
    "gen_ai.usage.completion_tokens",
    "decision.token_count.output",
)
TOTAL_TOKENS = (
    "total_request_tokens",
    "langfuse.usage.total",
    "gen_ai.usage.total_tokens",
    "llm.usage.total_tokens",
    "llm.token_count.total",
)
CACHE_READ = (
    "prompt_cache_hit_tokens",
    "gen_ai.usage.cache_read.input_tokens",
    "llm.token_count.prompt_details.cache_read",
    "gen_ai.usage.cache_read_input_tokens",
    "langfuse.usage.input_cached_tokens",
)
CACHE_WRITE = (
    "prompt_cache_creation_tokens",
    "gen_ai.usage.cache_creation.input_tokens",
    "llm.token_count.prompt_details.cache_write",
    "gen_ai.usage.cache_creation_input_tokens",
)
REASONING = (
    "gen_ai.usage.reasoning.output_tokens",
    "llm.token_count.completion_details.reasoning",
    "gen_ai.usage.reasoning_tokens",
    "llm.usage.reasoning_tokens",
)
USAGE_PREFIXES = ("gen_ai.usage", "llm.token_count", "llm.usage")  # the rest: metadata.usage
COST = ("langfuse.cost.total", "llm.cost.total", "gen_ai.usage.cost")

# -- request parameters, kept as Keywords AI fields (§2.3, §3.2, §4.2); `llm.invocation_parameters`
# is read as `llm.invocation_parameters.*` (derived)
INV = "llm.invocation_parameters"
PARAMETERS: dict[str, tuple[str, ...]] = {
    "temperature": ("gen_ai.request.temperature", f"{INV}.temperature"),
    "top_p": ("gen_ai.request.top_p", f"{INV}.top_p"),
    "max_tokens": (
        "gen_ai.request.max_tokens",
        f"{INV}.max_tokens",
        f"{INV}.max_output_tokens",
        f"{INV}.max_new_tokens",
    ),
    "max_completion_tokens": (
        "gen_ai.request.max_completion_tokens",
        f"{INV}.max_completion_tokens",
    ),
    "frequency_penalty": (
        "gen_ai.request.frequency_penalty",
        f"{INV}.frequency_penalty",
        "llm.frequency_penalty",
    ),
    "presence_penalty": (
        "gen_ai.request.presence_penalty",
        f"{INV}.presence_penalty",
        "llm.presence_penalty",
    ),
    "stop": (
        "gen_ai.request.stop_sequences",
        f"{INV}.stop",
        f"{INV}.stop_sequences",
        "llm.chat.stop_sequences",
    ),
    "n": ("gen_ai.request.choice.count", f"{INV}.n", f"{INV}.candidate_count", "gen_ai.request.n"),
    "reasoning_effort": (
        f"{INV}.reasoning_effort",
        "gen_ai.request.reasoning_effort",
        "llm.request.reasoning_effort",
    ),
    "response_format": (f"{INV}.response_format", "gen_ai.request.structured_output_schema"),
    "tool_choice": (f"{INV}.tool_choice",),
    "parallel_tool_calls": (f"{INV}.parallel_tool_calls",),
    "logprobs": (f"{INV}.logprobs",),
    "top_logprobs": (f"{INV}.top_logprobs",),
    "logit_bias": (f"{INV}.logit_bias",),
    "thinking": (f"{INV}.thinking",),
    "dimensions": (
        "gen_ai.embeddings.dimension.count",
        "embedding.invocation_parameters.dimensions",
    ),
}
STREAM = ("gen_ai.request.stream", f"{INV}.stream", "llm.is_streaming", "gen_ai.is_streaming")
ENCODING_FORMAT = (
    "gen_ai.request.encoding_formats",
    "embedding.invocation_parameters.encoding_format",
)
TTFT_SECONDS = (
    "time_to_first_token",
    "gen_ai.response.time_to_first_chunk",
    "llm.openai.chat_completions.streaming_time_to_first_token",
)
TTFT_MS = ("ai.response.msToFirstChunk", "ai.stream.msToFirstChunk")
CHUNK_EVENTS = ("gen_ai.content.completion.chunk", "llm.content.completion.chunk")
FIRST_TOKEN_EVENT = "First Token Stream Event"

# -- who and where (§4.1, §4.3, §4.4, §5.2)
THREAD = (
    *(f"{p}.threads.thread_identifier" for p in KA),
    "respan.sessions.session_identifier",
    "langfuse.session.id",
    "gen_ai.conversation.id",
    "session.id",
    "traceloop.association.properties.session_id",
)
CUSTOMER = (
    *(f"{p}.customer_params.customer_identifier" for p in KA),
    "langfuse.user.id",
    "user.id",
    "traceloop.association.properties.customer_id",
    "traceloop.association.properties.user_id",
    "gen_ai.user",
    "llm.user",
)
IDENTIFIERS: dict[str, tuple[str, ...]] = {
    "customer_email": tuple(f"{p}.customer_params.email" for p in KA),
    "customer_name": tuple(f"{p}.customer_params.name" for p in KA),
    "custom_identifier": tuple(f"{p}.span_params.custom_identifier" for p in KA),
    "evaluation_identifier": tuple(f"{p}.evaluation_params.evaluation_identifier" for p in KA),
    "span_workflow_name": ("traceloop.workflow.name", "gen_ai.workflow.name"),
    "prompt_name": ("gen_ai.prompt.name", "traceloop.prompt.key"),
}
# Fields with no column, kept in `extra` under their Keywords AI names.
EXTRA_FIELDS: dict[str, tuple[str, ...]] = {
    "trace_group_identifier": tuple(f"{p}.trace.trace_group_identifier" for p in KA),
    "span_path": ("traceloop.entity.path",),
    "span_tools": ("respan.span.tools",),
    "span_handoffs": ("respan.span.handoffs",),
    "variables": ("traceloop.prompt.template_variables", "llm.prompt_template.variables"),
}
SPAN_NAME_FALLBACK = ("gen_ai.tool.name", "tool.name", "traceloop.entity.name")

# -- input and output (§5.2)
LANGFUSE_INPUT, LANGFUSE_OUTPUT = "langfuse.observation.input", "langfuse.observation.output"
TOOL_INPUT = (LANGFUSE_INPUT, "gen_ai.tool.call.arguments", "input.value", "traceloop.entity.input")
TOOL_OUTPUT = (
    LANGFUSE_OUTPUT,
    "gen_ai.tool.call.result",
    "output.value",
    "traceloop.entity.output",
)
OTHER_INPUT = (
    LANGFUSE_INPUT,
    "input.value",
    "traceloop.entity.input",
    "gen_ai.retrieval.query.text",
    "gen_ai.task.input",
)
OTHER_OUTPUT = (
    LANGFUSE_OUTPUT,
    "output.value",
    "traceloop.entity.output",
    "gen_ai.retrieval.documents",
    "gen_ai.task.output",
)

# -- kept in `metadata` under these names (§2.3, §3.2, §4.x)
METADATA_KEYS: dict[str, tuple[str, ...]] = {
    "response_id": ("gen_ai.response.id",),
    "top_k": ("gen_ai.request.top_k", f"{INV}.top_k", "llm.top_k"),
    "seed": ("gen_ai.request.seed", f"{INV}.seed"),
    "output_type": ("gen_ai.output.type",),
    "data_source_id": ("gen_ai.data_source.id",),
    "entity_name": ("traceloop.entity.name",),
    "entity_version": ("traceloop.entity.version",),
    "correlation_id": ("traceloop.correlation.id",),
    "tags": ("tag.tags", "langfuse.trace.tags"),
}
FINISH_REASON_KEYS = (
    "gen_ai.response.finish_reasons",
    "llm.finish_reason",
    "llm.response.finish_reason",
    "llm.response.stop_reason",
    "gen_ai.response.finish_reason",
    "gen_ai.response.stop_reason",
)
# attribute prefix -> metadata key holding what is under it (that no field took)
METADATA_PREFIXES: tuple[tuple[str, str], ...] = (
    ("gen_ai.agent", "agent"),
    ("agent", "agent"),
    ("gen_ai.tool", "tool"),
    ("tool", "tool"),
    ("graph.node", "graph"),
    ("server", "server"),
    ("openai", "openai"),
    ("gen_ai.openai", "openai"),
    ("gen_ai.guardrail", "guardrail"),
    ("llm.prompt_template", "prompt_template"),
    ("traceloop.prompt", "prompt"),
    ("llm.cost", "cost"),
    ("langfuse.cost", "cost"),
    *((f"{p}.entity", "entity") for p in KA),
    ("respan.properties", "properties"),
    ("respan.prompt", "prompt"),
)
# Free-form metadata, merged; earlier sources win on clashes (§5.2 `metadata`).
METADATA_OBJECTS = (
    *(f"{p}.metadata" for p in KA),
    "langfuse.observation.metadata",
    "langfuse.trace.metadata",
    "metadata",
)
ASSOCIATION = "traceloop.association.properties"
