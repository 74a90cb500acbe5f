"""The response models tell the truth about the answers, so that /openapi.json can.

Every route of both dialects is called over HTTP, for its success and its error answers. Each
body must validate strictly against its model, come back unchanged through it (wiring it as
`response_model=` changes no answer), and hold no key a model leaves undeclared but the
telemetry the client added itself. The SDKs' own types must parse the main answers too.
"""

from __future__ import annotations

import functools
import json
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from humanloop import types as sdk
from keywordsai.types.experiment_types import Experiment as SdkExperiment
from keywordsai.types.experiment_types import ExperimentList as SdkExperimentList
from keywordsai.types.log_types import KeywordsAIFullLogParams
from keywordsai.types.log_types import LogList as SdkLogList
from keywordsai.types.prompt_types import (
    PromptListResponse,
    PromptRetrieveResponse,
    PromptVersionListResponse,
    PromptVersionRetrieveResponse,
)
from pydantic import BaseModel, TypeAdapter

from llmtrail.api.humanloop import dataset_responses as hld
from llmtrail.api.humanloop import evaluation_responses as hle
from llmtrail.api.humanloop import responses as hl
from llmtrail.api.keywords import dataset_responses as ds
from llmtrail.api.keywords import experiment_responses as ex
from llmtrail.api.keywords import prompt_responses as kwp
from llmtrail.api.keywords import responses as kw
from llmtrail.api.otlp import responses as otlp
from llmtrail.api.responses import Detail
from llmtrail.config import DEFAULT_MAX_BODY_BYTES
from tests.conftest import PASSWORD, Server, Tenant
from tests.fakes.openai_server import FakeOpenAI, Reply, completion, error, streamed

KW = "/api/request-logs"
# Fields no model declares: the only keys an answer may hold beyond its model's.
TELEMETRY = {"temperature": 0.2, "custom_field": "kept"}
ERROR_MODELS = {400: kw.FieldErrors, 422: hl.HTTPValidationError}
# How each SDK parses an answer; the Humanloop models carry the names of the SDK's types.
SDK_PARSERS: dict[type[BaseModel], Callable[[Any], Any]] = {
    kw.LogObject: lambda body: KeywordsAIFullLogParams(**body),
    kw.LogList: lambda body: SdkLogList(**body),
    kwp.Prompt: lambda body: PromptRetrieveResponse(**body),
    kwp.PromptList: lambda body: PromptListResponse(**body),
    kwp.PromptVersion: lambda body: PromptVersionRetrieveResponse(**body),
    kwp.PromptVersionList: lambda body: PromptVersionListResponse(**body),
    ex.Experiment: lambda body: SdkExperiment(**body),
    ex.ExperimentList: lambda body: SdkExperimentList(**body),
    **{
        ours: getattr(sdk, ours.__name__).model_validate
        for ours in (
            *hl.LogResponse.__args__,
            hl.PaginatedDataLogResponse,
            hl.PromptResponse,
            hl.PopulateTemplateResponse,
            hl.AgentResponse,
            hl.ToolResponse,
            hl.FlowResponse,
            hl.EvaluatorResponse,
            *hl._Page.__subclasses__(),
            hl.ListPrompts,
            hl.ListAgents,
            hl.ListTools,
            hl.ListFlows,
            hl.ListEvaluators,
            hl.CreatePromptLogResponse,
            hl.PromptCallResponse,
            hl.PromptCallStreamResponse,
            hl.AgentCallResponse,
            hl.AgentContinueCallResponse,
            hl.ToolCallResponse,
            hl.DirectoryResponse,
            hl.DirectoryWithParentsAndChildrenResponse,
            hl.PromptKernelRequest,
            hl.AgentKernelRequest,
            hl.CreateAgentLogResponse,
            hl.CreateFlowLogResponse,
            hl.CreateToolLogResponse,
            hl.CreateEvaluatorLogResponse,
            hld.DatasetResponse,
            hld.PaginatedDatasetResponse,
            hld.PaginatedDatapointResponse,
            hld.ListDatasets,
            hle.EvaluationResponse,
            hle.PaginatedEvaluationResponse,
            hle.EvaluationRunResponse,
            hle.EvaluationRunsResponse,
            hle.EvaluationStats,
            hle.PaginatedDataEvaluationLogResponse,
        )
    },
}


@functools.cache
def adapter(model: Any) -> TypeAdapter:
    return TypeAdapter(model)


def conforms(response: httpx.Response, status: int, model: Any) -> Any:
    """The answer's body, once it has passed the checks of the module docstring."""
    assert response.status_code == status, response.text
    parsed = adapter(model).validate_json(response.content, strict=True)
    body = response.json()
    assert adapter(model).dump_python(parsed, mode="json", exclude_unset=True) == body
    assert undeclared(parsed) <= set(TELEMETRY)
    if type(parsed) in SDK_PARSERS:
        SDK_PARSERS[type(parsed)](body)
    return body


def undeclared(value: Any) -> set[str]:
    """The keys no model declares, anywhere in a validated answer."""
    if isinstance(value, list):
        return set().union(*map(undeclared, value))
    if not isinstance(value, BaseModel):
        return set()
    # The extra keys of a 400 are its content: the names of the fields at fault.
    found = set() if isinstance(value, kw.FieldKeyed) else set(value.model_extra or {})
    for name in type(value).model_fields:
        found |= undeclared(getattr(value, name))
    return found


def moment(seconds_ago: int = 1) -> str:
    """A past moment with microseconds: a whole second would come back as `.000000Z`."""
    when = datetime.now(UTC) - timedelta(seconds=seconds_ago + 1)
    return when.replace(microsecond=123456).isoformat()


def keywords_log() -> dict[str, Any]:
    """A log with every kind of field set, the named extras included."""
    return {
        "model": "gpt-4o",
        "prompt_messages": [{"role": "user", "content": "Hi"}],
        "completion_message": {"role": "assistant", "content": "Hello"},
        "completion_messages": [{"role": "assistant", "content": "Hello"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3},
        "latency": 0.75,
        "ttft": 0.25,
        "customer_params": {"customer_identifier": "c-1", "name": "Ada", "email": "a@b.c"},
        "thread_identifier": "t-1",
        "custom_identifier": "x-1",
        "metadata": {"k": "v", "_reserved": 1},
        "prompt": {"prompt_id": "p-1", "is_custom_prompt": True},
        "category": "qa",
        "trace_name": "trace",
        "trace_unique_id": "tr-1",
        "span_unique_id": "sp-1",
        "warnings": {"w": 1},
        "timestamp": moment(),
        "start_time": moment(2),
        **TELEMETRY,
    }


def test_keywords_answers(api: httpx.Client) -> None:
    created = conforms(api.post(f"{KW}/", json=keywords_log()), 201, kw.CreatedLog)
    conforms(api.post(f"{KW}/create/", json=keywords_log()), 201, kw.CreatedLog)
    uid = created["unique_id"]
    bulk = {"logs": [keywords_log(), {"cost": -1}]}
    conforms(api.post(f"{KW}/bulk/", json=bulk), 201, kw.BulkResult)
    conforms(api.post(f"{KW}/bulk/", json={"logs": [{"cost": -1}]}), 400, kw.BulkResult)
    listed = conforms(api.get(f"{KW}/list/?page_size=2"), 200, kw.LogList)
    assert listed["next"] and listed["results"][0]["prompt"]
    filters = {"filters": {"model": {"operator": "", "value": ["gpt-4o"]}}}
    listed = conforms(api.post(f"{KW}/list/?page=2&page_size=2", json=filters), 200, kw.LogList)
    assert listed["previous"] and listed["next"] is None
    conforms(api.post(f"{KW}/summary/", json=filters), 200, kw.Summary)
    batch = {"logs": [{"unique_id": uid, "note": "checked", "positive_feedback": True}]}
    conforms(api.patch(f"{KW}/batch-update/", json=batch), 200, kw.BatchUpdateResult)
    patch = {"metadata": {"k": None, "n": 1}, "custom_identifier": 5}
    conforms(api.patch(f"{KW}/{uid}/", json=patch), 200, kw.LogObject)
    conforms(api.patch(f"{KW}/{uid}/", json={"cost": 1}), 400, kw.ImmutableField)
    conforms(api.patch(f"{KW}/{uid}/", json={"note": 1}), 400, kw.FieldErrors)
    conforms(api.get(f"{KW}/{uid}/"), 200, kw.LogObject)
    conforms(api.get(f"{KW}/{uid}/history/"), 200, kw.History)
    deleted = api.delete(f"{KW}/{uid}/")
    assert deleted.status_code == 204 and not deleted.content


PROMPT = {"model": "gpt-4o", "template": [{"role": "user", "content": "{{q}}"}], "top_p": 1}
SPEC = {"arguments_type": "target_free", "return_type": "number", "evaluator_type": "human"}
RULE = {
    "type": "rule",
    "score_value_type": "boolean",
    "rule_config": {"rule": "contains", "value": "x"},
}
TOOL = {"function": {"name": "f", "description": "d", "parameters": {"properties": {"a": {}}}}}
CALL = {
    "inputs": {"q": "?"},
    "output": "answer",
    "messages": [{"role": "user", "content": "?"}],
    "output_message": {"role": "assistant", "content": "answer"},
    "prompt_tokens": 7,
    "output_tokens": 2,
    "finish_reason": "stop",
    "tool_choice": "auto",
    "start_time": moment(3),
    "end_time": moment(2),
    **TELEMETRY,
}
INCOMPLETE = {"log_status": "incomplete"}


def test_humanloop_log_answers(tenant: Tenant) -> None:
    """A Flow trace with a Log of every File type in it, judged, updated, fetched and listed."""
    base = uuid.uuid4().hex[:8]
    with tenant.client("x-api-key") as api:

        def log(kind: str, model: type, status: int = 200, **body: Any) -> dict[str, Any]:
            sent = api.post(f"/v5/{kind}s/log", json={"path": f"{base}/{kind}", **body})
            return conforms(sent, status, model)

        flow = log("flow", hl.CreateFlowLogResponse, flow={"attributes": {}}, **INCOMPLETE)
        in_flow = {"trace_parent_id": flow["id"]}
        prompt = log("prompt", hl.CreatePromptLogResponse, prompt=PROMPT, **CALL, **in_flow)
        tool = log("tool", hl.CreateToolLogResponse, tool=TOOL, output="x", **in_flow)
        agent = log("agent", hl.CreateAgentLogResponse, agent=PROMPT, **INCOMPLETE, **in_flow)
        in_agent = {"trace_parent_id": agent["id"]}
        log("prompt", hl.CreatePromptLogResponse, prompt=PROMPT, **CALL, **in_agent)
        judgment = {"spec": SPEC, "judgment": 0.5, "marked_completed": True}
        judged = log("evaluator", hl.CreateEvaluatorLogResponse, parent_id=prompt["id"], **judgment)
        # A judgment no evaluator log gave (a score of the Keywords AI API), and a monitor.
        rule = api.post("/api/evaluators/", json={"name": f"{base}-rule", **RULE}).json()
        scored = {"evaluator_id": rule["id"], "boolean_value": True, "explanation": "seen"}
        assert api.post(f"/api/logs/{prompt['id']}/scores/", json=scored).status_code == 201
        monitor = {"activate": [{"evaluator_id": rule["id"], "environment_id": "production"}]}
        monitored = api.post(f"/v5/prompts/{prompt['prompt_id']}/evaluators", json=monitor)
        assert conforms(monitored, 200, hl.PromptResponse)["evaluators"]
        log("tool", Detail, 409, tool=TOOL, log_id=tool["id"])
        version = {"path": f"{base}/flow", "attributes": {"v": 1}, "version_name": "v1"}
        conforms(api.post("/v5/flows", json=version), 200, hl.FlowResponse)
        named = api.post("/v5/flows", json={**version, "attributes": {"v": 2}})
        conforms(named, 409, Detail)

        metadata = {"metadata": {"m": 1}}
        updated = api.patch(f"/v5/prompts/{prompt['prompt_id']}/log/{prompt['id']}", json=metadata)
        assert len(conforms(updated, 200, hl.PromptLogResponse)["evaluator_logs"]) == 2
        updated = api.patch(f"/v5/tools/{tool['tool_id']}/log/{tool['id']}", json={"stdout": "s"})
        conforms(updated, 200, hl.ToolLogResponse)
        done = {"inputs": {"q": "?"}, "output": "done", "log_status": "complete"}
        updated = api.patch(f"/v5/agents/{agent['agent_id']}/log/{agent['id']}", json=done)
        assert conforms(updated, 200, hl.AgentLogResponse)["cost"] is not None
        conforms(api.patch(f"/v5/flows/logs/{flow['id']}", json=done), 200, hl.FlowLogResponse)
        log("tool", hl.HTTPValidationError, 422, tool=TOOL, **in_flow)  # the Flow is complete

        whole = conforms(api.get(f"/v5/logs/{flow['id']}"), 200, hl.LogResponse)
        assert len(whole["trace_children"]) == 3
        evaluator_id = api.get(f"/v5/logs/{judged['id']}").json()["evaluator"]["id"]
        for params in (
            {"file_id": evaluator_id, "include_parent": True},
            {"file_id": flow["flow_id"], "include_trace_children": True},
            {"file_id": prompt["prompt_id"], "size": 1, "page": 2},
            {"file_id": prompt["prompt_id"], "page": 9},
        ):
            conforms(api.get("/v5/logs", params=params), 200, hl.PaginatedDataLogResponse)
        deleted = api.delete("/v5/logs", params={"id": [judged["id"]]})
        assert deleted.status_code == 204 and not deleted.content


@pytest.mark.parametrize(
    ("kind", "kernel", "changed", "model", "page", "versions"),
    [
        (
            "prompts",
            {**PROMPT, "tools": [TOOL["function"]]},
            {"temperature": 0.5},
            hl.PromptResponse,
            hl.PaginatedDataPromptResponse,
            hl.ListPrompts,
        ),
        (
            "agents",
            {**PROMPT, "tools": [], "max_iterations": 3},
            {"max_iterations": 4},
            hl.AgentResponse,
            hl.PaginatedDataAgentResponse,
            hl.ListAgents,
        ),
        (
            "tools",
            {**TOOL, "source_code": "def f(a): ..."},
            {"source_code": "def f(a): pass"},
            hl.ToolResponse,
            hl.PaginatedDataToolResponse,
            hl.ListTools,
        ),
        (
            "flows",
            {"attributes": {"a": 1}},
            {"attributes": {"a": 2}},
            hl.FlowResponse,
            hl.PaginatedDataFlowResponse,
            hl.ListFlows,
        ),
        (
            "evaluators",
            {"spec": SPEC},
            {"spec": {**SPEC, "return_type": "boolean"}},
            hl.EvaluatorResponse,
            hl.PaginatedDataEvaluatorResponse,
            hl.ListEvaluators,
        ),
    ],
)
def test_humanloop_file_answers(
    tenant: Tenant, kind: str, kernel: dict, changed: dict, model: type, page: type, versions: type
) -> None:
    base = uuid.uuid4().hex[:8]
    path = f"{base}/{kind}"
    with tenant.client("x-api-key") as api:
        upsert = {"path": path, "version_name": "v1", **kernel}
        created = conforms(api.post(f"/v5/{kind}", json=upsert), 200, model)
        file = f"/v5/{kind}/{created['id']}"
        conforms(api.get(file), 200, model)
        found = api.post("/v5/files/retrieve-by-path", json={"path": path})
        assert type(adapter(hl.FileResponse).validate_json(found.content)) is model
        conforms(found, 200, hl.FileResponse)
        if kind == "prompts":
            filled = api.post(f"/v5/prompts/{created['id']}/populate", json={"q": "?"})
            assert conforms(filled, 200, hl.PopulateTemplateResponse)["populated_template"]
        assert conforms(api.get(f"/v5/{kind}", params={"name": kind}), 200, page)["records"]
        listed = conforms(api.get("/v5/files", params={"path": base}), 200, hl.PaginatedFiles)
        assert listed["total"] == 1
        newer = api.post(f"/v5/{kind}", json={"path": path, **kernel, **changed}).json()
        assert len(conforms(api.get(f"{file}/versions"), 200, versions)["records"]) == 2
        named = {"name": "v2", "description": "newer"}
        version = f"{file}/versions/{newer['version_id']}"
        assert conforms(api.patch(version, json=named), 200, model)["version_name"] == "v2"
        conforms(api.patch(version, json={"name": "v1"}), 409, Detail)
        moved = conforms(api.patch(file, json={"name": "moved"}), 200, model)
        assert moved["path"] == f"{base}/moved"
        deleted = api.delete(f"{file}/versions/{created['version_id']}")
        assert deleted.status_code == 204 and not deleted.content
        conforms(api.delete(version), 409, Detail)  # the only version left
        deploy = f"{file}/environments/staging"
        staged = conforms(api.post(deploy, params={"version_id": newer["version_id"]}), 200, model)
        assert staged["environments"][0]["name"] == "staging"
        envs = conforms(api.get(f"{file}/environments"), 200, list[hl.FileEnvironmentResponse])
        assert [e["file"] is not None for e in envs] == [False, True]
        removed = api.delete(deploy)
        assert removed.status_code == 204 and not removed.content
        deleted = api.delete(file)
        assert deleted.status_code == 204 and not deleted.content


def test_humanloop_prompt_call_answers(tenant: Tenant, llm_provider: FakeOpenAI) -> None:
    """A call, plain and streamed (each event), and its refusals: 502, 503 and 422."""
    marker = uuid.uuid4().hex
    body = {"path": f"{marker[:8]}/called", "prompt": PROMPT, "inputs": {"q": marker}}
    llm_provider.script_for(
        marker,
        completion("answer"),
        streamed("an", "swer"),
        error(401, "bad key"),
        *(error(500, "down") for _ in range(3)),
    )
    with tenant.client("x-api-key") as api:
        called = conforms(api.post("/v5/prompts/call", json=body), 200, hl.PromptCallResponse)
        assert called["logs"][0]["output"] == "answer"
        with api.stream("POST", "/v5/prompts/call", json={**body, "stream": True}) as events:
            assert events.headers["content-type"].startswith("text/event-stream")
            lines = [line for line in events.iter_lines() if line.startswith("data: ")]
        for line in lines:
            event = adapter(hl.PromptCallStreamResponse).validate_json(line[6:], strict=True)
            assert undeclared(event) == set()
            SDK_PARSERS[hl.PromptCallStreamResponse](json.loads(line[6:]))
        assert len(lines) == 3
        conforms(api.post("/v5/prompts/call", json=body), 502, Detail)
        conforms(api.post("/v5/prompts/call", json=body), 503, Detail)
        no_model = {"path": body["path"], "prompt": {"template": "x"}}
        conforms(api.post("/v5/prompts/call", json=no_model), 422, hl.HTTPValidationError)
        conforms(api.post("/v5/prompts/call", json={"id": "pr_nope"}), 404, Detail)


@pytest.mark.parametrize(
    ("kind", "model"), [("prompt", hl.PromptKernelRequest), ("agent", hl.AgentKernelRequest)]
)
def test_humanloop_serial_answers(tenant: Tenant, kind: str, model: type) -> None:
    with tenant.client("x-api-key") as api:
        made = api.post(f"/v5/{kind}s", json={"path": uuid.uuid4().hex[:8], **PROMPT}).json()
        text = api.get(f"/v5/{kind}s/{made['id']}/serialize")
        assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
        read = api.post(f"/v5/{kind}s/deserialize", json={kind: text.text})
        assert conforms(read, 200, model) == PROMPT
        conforms(api.post(f"/v5/{kind}s/deserialize", json={}), 422, hl.HTTPValidationError)
        conforms(api.get(f"/v5/{kind}s/nope/serialize"), 404, Detail)


def test_humanloop_agent_call_answers(tenant: Tenant, llm_provider: FakeOpenAI) -> None:
    """A turn that asks for a tool, the turn that answers, and their refusals."""
    marker = uuid.uuid4().hex
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    asks = {"role": "assistant", "content": None, "tool_calls": [call]}
    choice = {"index": 0, "message": asks, "finish_reason": "tool_calls"}
    llm_provider.script_for(marker, Reply(body={"choices": [choice]}), completion("done"))
    tools = [{"type": "inline", "json_schema": {"name": "f", "description": "d", "parameters": {}}}]
    agent = {"model": "gpt-4o", "template": [{"role": "user", "content": marker}], "tools": tools}
    body = {"path": f"{marker[:8]}/agent", "agent": agent}
    with tenant.client("x-api-key") as api:
        first = conforms(api.post("/v5/agents/call", json=body), 200, hl.AgentCallResponse)
        result = [{"role": "tool", "tool_call_id": "c1", "content": "ok"}]
        more = {"log_id": first["id"], "messages": result}
        done = conforms(
            api.post("/v5/agents/continue", json=more), 200, hl.AgentContinueCallResponse
        )
        assert (first["log_status"], done["log_status"]) == ("incomplete", "complete")
        conforms(api.post("/v5/agents/continue", json=more), 409, Detail)
        conforms(api.post("/v5/agents/continue", json={"log_id": "x"}), 422, hl.HTTPValidationError)
        missing = {"log_id": "nope", "messages": result}
        conforms(api.post("/v5/agents/continue", json=missing), 404, Detail)


def test_humanloop_tool_call_answers(tenant: Tenant) -> None:
    code = "def f(a):\n    return {'a': a}\n"
    body = {"path": uuid.uuid4().hex[:8], "tool": {**TOOL, "source_code": code}}
    with tenant.client("x-api-key") as api:
        ran = conforms(
            api.post("/v5/tools/call", json={**body, "inputs": {"a": 1}}), 200, hl.ToolCallResponse
        )
        assert ran["output"] == '{"a": 1}'
        failed = api.post("/v5/tools/call", json={**body, "inputs": {"b": 1}})
        assert conforms(failed, 200, hl.ToolCallResponse)["error"]
        no_code = {"path": uuid.uuid4().hex[:8], "tool": TOOL}
        conforms(api.post("/v5/tools/call", json=no_code), 422, hl.HTTPValidationError)
        conforms(api.post("/v5/tools/call", json={"id": "tl_nope"}), 404, Detail)


def test_humanloop_tool_environment_answers(tenant: Tenant) -> None:
    pairs = list[hl.FileEnvironmentVariableRequest]
    with tenant.client("x-api-key") as api:
        tool = api.post("/v5/tools", json={"path": uuid.uuid4().hex[:8], **TOOL}).json()
        variables = f"/v5/tools/{tool['id']}/environment-variables"
        set_ = api.post(variables, json=[{"name": "K", "value": "v"}])
        assert conforms(set_, 200, pairs) == [{"name": "K", "value": "v"}]
        assert conforms(api.get(variables), 200, pairs)
        conforms(
            api.post(variables, json=[{"name": "1x", "value": "v"}]), 422, hl.HTTPValidationError
        )
        conforms(api.delete(f"{variables}/K"), 200, pairs)
        conforms(api.delete(f"{variables}/K"), 404, Detail)
        conforms(api.get("/v5/tools/nope/environment-variables"), 404, Detail)


def test_humanloop_directory_answers(tenant: Tenant) -> None:
    base = uuid.uuid4().hex[:8]
    with tenant.client("x-api-key") as api:
        made = api.post("/v5/directories", json={"path": f"{base}/d"})
        created = conforms(made, 200, hl.DirectoryResponse)
        api.post("/v5/prompts", json={"path": f"{base}/d/p", **PROMPT})
        listed = conforms(api.get("/v5/directories"), 200, list[hl.DirectoryResponse])
        assert len(listed) == 2
        got = api.get(f"/v5/directories/{created['parent_id']}")
        assert conforms(got, 200, hl.DirectoryWithParentsAndChildrenResponse)["subdirectories"]
        got = api.get(f"/v5/directories/{created['id']}")
        assert conforms(got, 200, hl.DirectoryWithParentsAndChildrenResponse)["files"]
        moved = api.patch(f"/v5/directories/{created['id']}", json={"name": "e"})
        assert conforms(moved, 200, hl.DirectoryResponse)["path"] == f"{base}/e"
        conforms(api.delete(f"/v5/directories/{created['id']}"), 409, Detail)
        conforms(api.post("/v5/directories", json={"path": f"{base}/e"}), 409, Detail)
        conforms(api.post("/v5/directories", json={}), 422, hl.HTTPValidationError)
        conforms(api.get("/v5/directories/dir_nope"), 404, Detail)
        conforms(api.patch("/v5/directories/dir_nope", json={}), 404, Detail)
        empty = api.delete(f"/v5/directories/{created['parent_id']}")
        conforms(empty, 409, Detail)


def test_humanloop_evaluator_answers(tenant: Tenant) -> None:
    base = uuid.uuid4().hex[:8]
    with tenant.client("x-api-key") as api:
        flow = api.post("/v5/flows", json={"path": f"{base}/flow", "attributes": {}}).json()
        judge = api.post("/v5/evaluators", json={"path": f"e/{base}-judge", "spec": SPEC}).json()
        activate = {"activate": [{"evaluator_version_id": judge["version_id"]}]}
        monitored = api.post(f"/v5/flows/{flow['id']}/evaluators", json=activate)
        assert conforms(monitored, 200, hl.FlowResponse)["evaluators"]
        conforms(api.get(f"/v5/flows/{flow['id']}"), 200, hl.FlowResponse)
        other = api.post("/v5/evaluators", json={"path": f"e/{base}-other", "spec": SPEC}).json()
        judged = api.post(f"/v5/evaluators/{other['id']}/evaluators", json=activate)
        assert conforms(judged, 200, hl.EvaluatorResponse)["evaluators"]
        itself = {"activate": [{"evaluator_id": other["id"]}]}
        conforms(
            api.post(f"/v5/evaluators/{other['id']}/evaluators", json=itself),
            422,
            hl.HTTPValidationError,
        )
        listed = api.get("/v5/evaluators", params={"name": base, "sort_by": "name"})
        assert conforms(listed, 200, hl.PaginatedDataEvaluatorResponse)["total"] == 2
        deleted = api.delete(f"/v5/evaluators/{judge['id']}")
        assert deleted.status_code == 204 and not deleted.content


ERRORS = [
    ("POST", f"{KW}/", {"cost": -1, "usage": {"prompt_tokens": -1}}, 400),
    ("POST", f"{KW}/create/", b'{"model": ', 400),
    ("POST", f"{KW}/bulk/", {"logs": []}, 400),
    ("GET", f"{KW}/list/?page=x", None, 400),
    ("POST", f"{KW}/list/", {"filters": {"nope": {"operator": "", "value": [1]}}}, 400),
    ("POST", f"{KW}/summary/?environment=dev", {}, 400),
    ("PATCH", f"{KW}/batch-update/", {"logs": [{"note": "n"}, {"unique_id": "nope"}]}, 400),
    ("GET", f"{KW}/nope/", None, 404),
    ("PATCH", f"{KW}/nope/", {"note": "n"}, 404),
    ("DELETE", f"{KW}/nope/", None, 404),
    ("GET", f"{KW}/nope/history/", None, 404),
    ("POST", "/v5/prompts/log", {"path": "p", "prompt_tokens": -1}, 422),
    ("POST", "/v5/agents/log", b"{", 422),
    ("POST", "/v5/tools/log", {"tool": {}}, 422),
    ("POST", "/v5/flows/log", {"id": "fl_nope"}, 404),
    ("POST", "/v5/evaluators/log", {"path": "e"}, 422),
    ("POST", "/v5/prompts/log", {"path": "p", "trace_parent_id": "log_nope"}, 422),
    ("PATCH", "/v5/flows/logs/nope", {}, 404),
    ("PATCH", "/v5/agents/ag_x/log/nope", {"log_status": "done"}, 422),
    ("PATCH", "/v5/prompts/pr_x/log/nope", {}, 404),
    ("PATCH", "/v5/tools/tl_x/log/nope", None, 404),
    ("GET", "/v5/logs/nope", None, 404),
    ("GET", "/v5/logs", None, 422),
    ("DELETE", "/v5/logs?id=nope", None, 404),
    ("DELETE", "/v5/logs", None, 422),
    ("POST", "/v5/prompts", {"path": "p"}, 422),
    ("POST", "/v5/agents", {"path": "a", "model": "m", "version_name": "x" * 256}, 422),
    ("POST", "/v5/tools", {"id": "tl_nope"}, 404),
    ("POST", "/v5/flows", {"path": "f"}, 422),
    ("POST", "/v5/evaluators", {"path": "e", "spec": {}, "id": "ev_nope"}, 404),
    *(("GET", f"/v5/{kind}s/nope", None, 404) for kind in ("prompt", "agent", "tool", "flow")),
    ("GET", "/v5/evaluators/nope?version_id=evv_nope", None, 404),
    ("POST", "/v5/files/retrieve-by-path", {"path": "nope"}, 404),
    ("POST", "/v5/files/retrieve-by-path", {}, 422),
    ("GET", "/v5/evaluators?sort_by=size", None, 422),
    *(
        case
        for kind in ("prompt", "agent", "tool", "flow", "evaluator")
        for case in (
            ("DELETE", f"/v5/{kind}s/nope", None, 404),
            ("PATCH", f"/v5/{kind}s/nope", {"name": "n"}, 404),
            ("GET", f"/v5/{kind}s/nope/versions", None, 404),
            ("PATCH", f"/v5/{kind}s/nope/versions/nope", {"name": "n"}, 404),
            ("DELETE", f"/v5/{kind}s/nope/versions/nope", None, 404),
            ("GET", f"/v5/{kind}s?size=-1", None, 422),
            ("GET", f"/v5/{kind}s/nope/environments", None, 404),
            ("POST", f"/v5/{kind}s/nope/environments/production?version_id=v", None, 404),
            ("POST", f"/v5/{kind}s/nope/environments/production", None, 422),
            ("DELETE", f"/v5/{kind}s/nope/environments/production", None, 404),
        )
    ),
    ("PATCH", "/v5/prompts/nope", {"path": ""}, 422),
    ("POST", "/v5/prompts/nope/populate", None, 404),
    ("POST", "/v5/prompts/nope/populate", [], 422),
    ("GET", "/v5/files?type=folder", None, 422),
    ("POST", "/v5/tools/tl_nope/evaluators", {}, 404),
    ("POST", "/v5/evaluators/ev_nope/evaluators", {}, 404),
    ("PATCH", "/v5/datasets/nope/versions/nope", {"name": "n"}, 404),
    ("DELETE", "/v5/datasets/nope/versions/nope", None, 404),
    ("GET", "/v5/datasets/nope/environments", None, 404),
    ("POST", "/v5/datasets/nope/environments/production?version_id=v", None, 404),
    ("POST", "/v5/datasets/nope/environments/production", None, 422),
    ("DELETE", "/v5/datasets/nope/environments/production", None, 404),
    ("POST", "/v5/prompts/pr_x/evaluators", {"activate": [{"evaluator": "e"}]}, 422),
]


def send(api: httpx.Client, method: str, path: str, body: Any) -> httpx.Response:
    """`body` as JSON, or as it is when it is bytes."""
    raw = body if isinstance(body, bytes) else None
    return api.request(
        method,
        path,
        content=raw,
        json=None if raw else body,
        headers={"Content-Type": "application/json"},
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "status"), ERRORS, ids=[f"{m} {p} {s}" for m, p, _, s in ERRORS]
)
def test_error_answers(tenant: Tenant, method: str, path: str, body: Any, status: int) -> None:
    with tenant.client("x-api-key" if path.startswith("/v5") else "bearer") as api:
        response = send(api, method, path, body)
    conforms(response, status, ERROR_MODELS.get(status, Detail))


# --- the evaluation surface -----------------------------------------------------------------

EV, CONDITIONS, AUTOMATIONS = (
    "/api/evaluators/",
    "/automation/conditions/",
    "/automation/automations/",
)
RATING = {
    "type": "human",
    "score_value_type": "numerical",
    "description": "1 to 5",
    "score_config": {"min_score": 1, "max_score": 5},
    "passing_conditions": {"primary_score": {"operator": "gte", "value": 3}},
}
RULE = {
    "type": "rule",
    "score_value_type": "boolean",
    "rule_config": {"rule": "contains", "value": "refund"},
}
POLICY = {"rules": [{"field": "status_code", "operator": "equals", "value": 200}]}


def condition_body(tag: str, **changes: Any) -> dict[str, Any]:
    return {
        "name": "Successful",
        "condition_slug": f"ok_{tag}",
        "condition_type": "single_log",
        "condition_policy": {**POLICY, "connector": "and"},
        **changes,
    }


def automation_body(tag: str, condition: str, evaluator: str, **changes: Any) -> dict[str, Any]:
    return {
        "automation_slug": f"auto_{tag}",
        "name": "Refunds",
        "automation_type": "online_eval",
        "condition": condition,
        "evaluator_ids": [evaluator],
        "configuration": {"sampling_rate": 1},
        "is_enabled": True,
        **changes,
    }


def evaluation(api: httpx.Client) -> dict[str, str]:
    """What the evaluation routes answer about, each creation's answer checked: a rating (a
    human's, 1 to 5) and the score it gave a log, a rule that an automation runs on that log
    over a condition, and an LLM judge whose prompt names `marker`. Their ids, by the names of
    the routes' path parameters."""
    tag = uuid.uuid4().hex
    marker = f"judge-{tag}"

    def made(path: str, body: dict[str, Any], model: type) -> dict[str, Any]:
        return conforms(api.post(path, json=body), 201, model)

    rating = made(EV, {"name": f"Rating {tag}", **RATING}, kw.Evaluator)
    rule = made(EV, {"name": f"Refund {tag}", **RULE}, kw.Evaluator)
    llm = {"model": "gpt-4o-mini", "evaluator_definition": f"{marker} {{{{output}}}}"}
    judge = {"name": f"Judge {tag}", **RATING, "type": "llm", "llm_config": llm}
    condition = made(CONDITIONS, condition_body(tag), kw.Condition)
    automation = made(AUTOMATIONS, automation_body(tag, condition["id"], rule["id"]), kw.Automation)
    log = made(f"{KW}/", keywords_log(), kw.CreatedLog)["unique_id"]
    score = {"evaluator_slug": rating["evaluator_slug"], "numerical_value": 4, "explanation": "ok"}
    return {
        "evaluator_id": rating["id"],
        "evaluator_slug": rating["evaluator_slug"],
        "rule": rule["id"],
        "judge": made(EV, judge, kw.Evaluator)["id"],
        "marker": marker,
        "condition_id": condition["id"],
        "automation_id": automation["id"],
        "log_id": log,
        "score_id": made(f"/api/logs/{log}/scores/", score, kw.Score)["id"],
    }


def test_evaluation_answers(api: httpx.Client, llm_provider: FakeOpenAI) -> None:
    ids = evaluation(api)
    evaluator, log, score = (f"{EV}{ids['evaluator_id']}/", ids["log_id"], ids["score_id"])
    llm_provider.script_for(ids["marker"], completion('{"score": 4, "explanation": "fine"}'))
    inputs = {"inputs": {"input": "where is my money?", "output": "a refund, sure"}}
    for key, said in (
        ("judge", "prompt_tokens"),
        ("rule", "explanation"),
        ("evaluator_id", "error"),
    ):
        ran = conforms(api.post(f"{EV}{ids[key]}/run/", json=inputs), 200, kw.RunResult)
        assert ran[said] is not None, ran
    listed = conforms(api.get(EV, params={"page_size": 1}), 200, kw.EvaluatorList)
    assert listed["next"] and listed["previous"] is None
    conforms(api.get(evaluator), 200, kw.Evaluator)
    changed = {"score_config": {"max_score": 10}, "categorical_choices": ["a", {"name": "b"}]}
    conforms(api.patch(evaluator, json=changed), 200, kw.Evaluator)

    tone = {"name": f"Tone {ids['marker']}", "type": "human", "score_value_type": "single_select"}
    tone = conforms(api.post(EV, json={**tone, "categorical_choices": ["kind"]}), 201, kw.Evaluator)
    chosen = {"log_id": log, "evaluator_id": tone["id"], "categorical_value": "kind"}
    conforms(api.post("/api/scores/", json=chosen), 201, kw.Score)
    for scores in ("/api/scores/", f"/api/logs/{log}/scores/"):
        conforms(api.get(scores, params={"evaluator_id": tone["id"]}), 200, kw.ScoreList)
        conforms(api.get(f"{scores}{score}/"), 200, kw.Score)
        conforms(api.patch(f"{scores}{score}/", json={"explanation": None}), 200, kw.Score)
    condition = f"{CONDITIONS}{ids['condition_id']}/"
    conforms(api.get(CONDITIONS, params={"search": "Succ"}), 200, kw.ConditionList)
    conforms(api.get(condition), 200, kw.Condition)
    conforms(api.patch(condition, json={"description": "HTTP 200"}), 200, kw.Condition)
    automation = f"{AUTOMATIONS}{ids['automation_id']}/"
    conforms(api.get(AUTOMATIONS), 200, kw.AutomationList)
    conforms(api.get(automation), 200, kw.Automation)
    rate = {"configuration": {"sampling_rate": 0.2}, "is_enabled": False}
    conforms(api.patch(automation, json=rate), 200, kw.Automation)
    assert conforms(api.get("/api/jobs/"), 200, kw.JobList)["results"], "the rule's job"
    conforms(api.get("/api/jobs/summary/"), 200, kw.JobsSummary)
    for gone in (f"/api/logs/{log}/scores/{score}/", automation, condition, evaluator):
        deleted = api.delete(gone)
        assert deleted.status_code == 204 and not deleted.content, gone


NOPE = "nope"
# Each error each evaluation route answers, by a request about `evaluation()`'s objects.
EVALUATION_ERRORS = [
    ("POST", EV, {"name": "x"}, 400, kw.BareFieldErrors),
    ("POST", EV, b'{"name": ', 400, kw.BareFieldErrors),
    ("POST", EV, {"name": "x", **RATING, "evaluator_slug": "{evaluator_slug}"}, 409, Detail),
    ("GET", f"{EV}?page=0", None, 400, kw.BareFieldErrors),
    ("GET", f"{EV}{NOPE}/", None, 404, Detail),
    ("PATCH", f"{EV}{{evaluator_id}}/", {"score_value_type": "x"}, 400, kw.BareFieldErrors),
    ("PATCH", f"{EV}{NOPE}/", {}, 404, Detail),
    ("PATCH", f"{EV}{{rule}}/", {"evaluator_slug": "{evaluator_slug}"}, 409, Detail),
    ("DELETE", f"{EV}{NOPE}/", None, 404, Detail),
    ("POST", f"{EV}{{rule}}/run/", {"inputs": 1}, 400, kw.BareFieldErrors),
    ("POST", f"{EV}{NOPE}/run/", {"inputs": {}}, 404, Detail),
    ("POST", f"{EV}{{judge}}/run/", {"inputs": {}}, 503, Detail),  # its provider fails
    *(
        case
        for scores, log_id in (
            ("/api/scores/", {"log_id": "{log_id}"}),
            ("/api/logs/{log_id}/scores/", {}),
        )
        for case in (
            ("POST", scores, {**log_id, "numerical_value": 4}, 400, kw.BareFieldErrors),
            (
                "POST",
                scores,
                {**log_id, "evaluator_id": "{evaluator_id}", "numerical_value": 4},
                409,
                kw.ScoreConflict,
            ),
            ("GET", f"{scores}?page_size=0", None, 400, kw.BareFieldErrors),
            ("GET", f"{scores}{NOPE}/", None, 404, Detail),
            ("PATCH", f"{scores}{{score_id}}/", {"numerical_value": 9}, 400, kw.BareFieldErrors),
            ("PATCH", f"{scores}{NOPE}/", {}, 404, Detail),
            ("DELETE", f"{scores}{NOPE}/", None, 404, Detail),
        )
    ),
    ("POST", "/api/scores/", {"log_id": NOPE, "evaluator_id": "{evaluator_id}"}, 404, Detail),
    ("POST", f"/api/logs/{NOPE}/scores/", {"evaluator_id": "{evaluator_id}"}, 404, Detail),
    ("GET", f"/api/logs/{NOPE}/scores/", None, 404, Detail),
    ("POST", CONDITIONS, {}, 400, kw.BareFieldErrors),
    (
        "POST",
        CONDITIONS,
        condition_body(NOPE, condition_type="aggregation"),
        422,
        kw.BareFieldErrors,
    ),
    ("GET", f"{CONDITIONS}?page=0", None, 400, kw.BareFieldErrors),
    ("GET", f"{CONDITIONS}{NOPE}/", None, 404, Detail),
    ("PATCH", f"{CONDITIONS}{{condition_id}}/", {"name": ""}, 400, kw.BareFieldErrors),
    ("PATCH", f"{CONDITIONS}{NOPE}/", {}, 404, Detail),
    (
        "PATCH",
        f"{CONDITIONS}{{condition_id}}/",
        {"condition_type": "aggregation"},
        422,
        kw.BareFieldErrors,
    ),
    ("DELETE", f"{CONDITIONS}{NOPE}/", None, 404, Detail),
    ("DELETE", f"{CONDITIONS}{{condition_id}}/", None, 409, Detail),  # its automation uses it
    ("POST", AUTOMATIONS, {}, 400, kw.BareFieldErrors),
    ("POST", AUTOMATIONS, automation_body(NOPE, NOPE, "{rule}"), 404, kw.BareFieldErrors),
    ("GET", f"{AUTOMATIONS}?page=x", None, 400, kw.BareFieldErrors),
    ("GET", f"{AUTOMATIONS}{NOPE}/", None, 404, Detail),
    (
        "PATCH",
        f"{AUTOMATIONS}{{automation_id}}/",
        {"configuration": {"sampling_rate": 2}},
        400,
        kw.BareFieldErrors,
    ),
    ("PATCH", f"{AUTOMATIONS}{NOPE}/", {}, 404, Detail),
    ("PATCH", f"{AUTOMATIONS}{{automation_id}}/", {"condition": NOPE}, 404, kw.BareFieldErrors),
    ("DELETE", f"{AUTOMATIONS}{NOPE}/", None, 404, Detail),
    ("GET", "/api/jobs/?state=x", None, 400, kw.BareFieldErrors),
]


def filled(value: Any, ids: dict[str, str]) -> Any:
    """`value` with the scenario's ids in its `{name}` placeholders."""
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: filled(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [filled(v, ids) for v in value]
    return value


@pytest.fixture(scope="module")
def evaluated(tenant_factory, llm_provider: FakeOpenAI) -> Iterator[tuple[httpx.Client, dict]]:  # type: ignore[no-untyped-def]
    """One `evaluation()` per backend for the error answers, which change nothing; its judge's
    provider is down."""
    with tenant_factory().client() as api:
        ids = evaluation(api)
        llm_provider.script_for(ids["marker"], error(500, "down"))
        yield api, ids


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "model"),
    EVALUATION_ERRORS,
    ids=[f"{m} {p} {s}" for m, p, _, s, _ in EVALUATION_ERRORS],
)
def test_evaluation_error_answers(
    evaluated: tuple[httpx.Client, dict],
    method: str,
    path: str,
    body: Any,
    status: int,
    model: type,
) -> None:
    api, ids = evaluated
    conforms(send(api, method, filled(path, ids), filled(body, ids)), status, model)


def test_the_evaluation_routes_document_exactly_the_errors_they_answer() -> None:
    spec = json.loads((Path(__file__).parents[2] / "docs" / "openapi.json").read_text())
    for template, operations in spec["paths"].items():
        pattern = re.compile(re.sub(r"\{\w+\}", "[^/]+", template))
        for method, operation in operations.items():
            if operation["tags"] != ["Keywords AI: evaluation"]:
                continue
            # 401, 403 (a viewer on a writing route), 413, 429 and 503 (the database away):
            # from the surface.
            every = {200, 201, 204, 401, 403, 413, 429, 503}
            documented = {int(s) for s in operation["responses"]} - every
            answered = {
                status
                for m, path, _, status, _ in EVALUATION_ERRORS
                if m == method.upper() and pattern.fullmatch(path.split("?")[0])
            } - every
            assert documented == answered, f"{method.upper()} {template}"


# --- datasets -------------------------------------------------------------------------------

DS = "/api/datasets/"
DS_ONE = f"{DS}{{dataset_id}}/"
DS_LOGS = f"{DS_ONE}logs/"
DATASET_ROUTES = [
    ("POST", DS),
    ("POST", f"{DS}create/"),
    ("GET", DS_LOGS),
    ("POST", f"{DS_LOGS}create/"),
    ("GET", f"{DS}list/"),
    *((method, DS_ONE) for method in ("GET", "PATCH", "DELETE")),
    ("POST", DS_LOGS),
    ("POST", f"{DS_LOGS}bulk/"),
    ("GET", f"{DS_LOGS}list/"),
    ("POST", f"{DS_LOGS}list/"),
    ("DELETE", f"{DS_LOGS}delete/"),
    *((method, f"{DS_LOGS}{{log_id}}/") for method in ("GET", "PATCH", "PUT", "DELETE")),
    ("POST", f"{DS_ONE}eval-reports/create/"),
    *(("GET", f"{DS_ONE}eval-reports/{tail}") for tail in ("list/", "compare/", "{report_id}/")),
]


def test_dataset_answers(server: Server, tenant: Tenant, person_factory) -> None:
    member = person_factory(tenant.org)
    with tenant.client() as api:
        source = conforms(api.post(f"{KW}/", json=keywords_log()), 201, kw.CreatedLog)
        now = datetime.now(UTC)
        window = {"start_time": (now - timedelta(hours=1)).isoformat(), "end_time": now.isoformat()}
        filters = {"unique_id": {"operator": "in", "value": [source["unique_id"]]}}
        body = {"name": "d", **window, "initial_log_filters": filters, "sampling": 100}
        made = conforms(api.post(DS, json=body), 201, ds.Dataset)
        one = f"{DS}{made['id']}/"
        conforms(api.get(f"{DS}list/"), 200, ds.DatasetList)
        conforms(api.patch(one, json={"description": "e"}), 200, ds.Dataset)
        conforms(api.post(f"{one}logs/bulk/", json={**window, "filters": filters}), 200, ds.Message)
        created = {"input": "i", "output": "o", "metadata": {"k": 1}, "target": {"t": 1}}
        direct = conforms(api.post(f"{one}logs/", json=created), 201, ds.CreatedDatasetLog)
        log = f"{one}logs/{direct['log_data']['id']}/"
        conforms(api.get(f"{one}logs/list/"), 200, ds.DatasetLogList)
        conforms(
            api.post(f"{one}logs/list/", json={"filters": {"metadata.k": 1}}),
            200,
            ds.DatasetLogList,
        )
        conforms(api.patch(log, json={"metadata": {"n": 2}}), 200, ds.DatasetLog)
        conforms(api.put(log, json={"messages": [], "model": "m"}), 200, ds.DatasetLog)
        with httpx.Client(base_url=server.base_url, headers=member.headers) as signed_in:
            conforms(signed_in.get(log), 200, ds.DatasetLog)
            conforms(signed_in.get(f"{one}logs/nope/"), 404, Detail)
        conforms(api.get(log), 401, Detail)
        assert api.delete(log).status_code == 204
        gone = api.request("DELETE", f"{one}logs/delete/", json={"is_deleting_all_logs": True})
        conforms(gone, 200, ds.Removed)
        for method, path, sent in (
            ("POST", DS, {}),
            ("GET", f"{DS}list/?sort_by=size", None),
            ("PATCH", one, {"name": ""}),
            ("POST", f"{one}logs/bulk/", {}),
            ("POST", f"{one}logs/", {}),
            ("POST", f"{one}logs/list/", {"filters": {"nope": 1}}),
            ("DELETE", f"{one}logs/delete/", {}),
            ("PATCH", f"{one}logs/x/", {"cost": 1}),
        ):
            conforms(send(api, method, path, sent), 400, kw.FieldErrors)
        rule = {"name": f"r-{made['id']}", **RULE}
        judge = conforms(api.post(EV, json=rule), 201, kw.Evaluator)["evaluator_slug"]
        run = {"evaluator_slugs": [judge]}
        report = conforms(
            api.post(f"{one}eval-reports/create/", json=run), 201, ds.EvalReportSummary
        )
        conforms(api.get(f"{one}eval-reports/list/"), 200, ds.EvalReportList)
        conforms(api.get(f"{one}eval-reports/{report['id']}/"), 200, ds.EvalReport)
        pair = {"a": report["id"], "b": report["id"]}
        conforms(api.get(f"{one}eval-reports/compare/", params=pair), 200, ds.EvalComparison)
        conforms(api.post(f"{one}eval-reports/create/", json={}), 400, kw.FieldErrors)
        conforms(api.get(f"{one}eval-reports/compare/"), 400, kw.FieldErrors)
        conforms(api.get(f"{one}eval-reports/nope/"), 404, Detail)
        again = {"input": "i", "output": "o", "unique_id": direct["log_data"]["id"]}
        assert api.post(f"{one}logs/", json=again).status_code == 201
        conforms(api.post(f"{one}logs/", json=again), 409, Detail)
        assert api.delete(one).status_code == 204
        conforms(api.get(one), 404, Detail)


WRITES_OF_PARTS = ("POST", "PATCH", "DELETE")
EX = "/api/experiments/"
EX_ONE = f"{EX}{{experiment_id}}/"
EXPERIMENT_ROUTES = [
    ("POST", f"{EX}create/"),
    ("GET", f"{EX}list/"),
    *((method, EX_ONE) for method in ("GET", "PATCH", "DELETE")),
    ("GET", f"{EX_ONE}rows/"),
    *((method, f"{EX_ONE}{part}/") for part in ("rows", "columns") for method in WRITES_OF_PARTS),
    ("POST", f"{EX_ONE}run/"),
    ("POST", f"{EX_ONE}run-evals/"),
]


def test_experiment_answers(tenant: Tenant, llm_provider: FakeOpenAI) -> None:
    marker = f"x-{uuid.uuid4().hex[:8]}"
    llm_provider.script_for(marker, completion("yes"))
    messages = [{"role": "user", "content": f"{marker} {{{{q}}}}"}]
    column = {"id": "c1", "model": "m", "name": "c", "max_completion_tokens": 8}
    column["prompt_messages"] = messages
    body = {"name": "e", "columns": [column], "rows": [{"id": "r1", "input": {"q": "?"}}]}
    with tenant.client() as api:
        made = conforms(api.post(f"{EX}create/", json=body), 201, ex.Experiment)
        one = f"{EX}{made['id']}/"
        conforms(api.get(f"{EX}list/"), 200, ex.ExperimentList)
        conforms(api.patch(one, json={"description": "d"}), 200, ex.Experiment)
        rows = {"rows": [{"id": "r2", "input": {"q": "!"}, "ideal_output": "yes"}]}
        conforms(api.post(f"{one}rows/", json=rows), 201, ex.RowsAdded)
        conforms(api.patch(f"{one}rows/", json=rows), 200, ex.RowsUpdated)
        other = {**column, "id": "c2", "name": "d"}
        conforms(api.post(f"{one}columns/", json={"columns": [other]}), 201, ex.ColumnsAdded)
        conforms(api.patch(f"{one}columns/", json={"columns": [other]}), 200, ex.ColumnsUpdated)
        gone = api.request("DELETE", f"{one}columns/", json={"columns": ["c2"]})
        conforms(gone, 200, ex.ColumnsRemoved)
        gone = api.request("DELETE", f"{one}rows/", json={"rows": ["r1"]})
        conforms(gone, 200, ex.RowsRemoved)
        conforms(api.post(f"{one}run/", json={}), 202, ex.RunStarted)
        deadline = time.monotonic() + 60
        while api.get(one).json()["status"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        rule = {"name": f"r-{made['id']}", **RULE}
        judge = conforms(api.post(EV, json=rule), 201, kw.Evaluator)["evaluator_slug"]
        started = api.post(f"{one}run-evals/", json={"evaluator_slugs": [judge]})
        conforms(started, 202, ex.EvalsStarted)
        deadline = time.monotonic() + 60
        while not api.get(one).json()["rows"][0]["results"][0]["evaluation_result"]:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        conforms(api.get(one), 200, ex.Experiment)
        conforms(api.get(f"{one}rows/"), 200, ex.RowList)
        for method, path, sent in (
            ("POST", f"{EX}create/", {}),
            ("GET", f"{EX}list/?page=0", None),
            ("PATCH", one, {"rows": []}),
            ("POST", f"{one}rows/", {"rows": [{"id": "r2"}]}),
            ("PATCH", f"{one}rows/", {"rows": [{"id": "nope"}]}),
            ("DELETE", f"{one}rows/", {}),
            ("POST", f"{one}columns/", {"columns": [{}]}),
            ("PATCH", f"{one}columns/", {"columns": [{**column, "id": "nope"}]}),
            ("DELETE", f"{one}columns/", {"columns": ["nope"]}),
            ("POST", f"{one}run/", {"columns": [{}]}),
            ("POST", f"{one}run-evals/", {"evaluator_slugs": ["nope"]}),
            ("GET", f"{one}rows/?page_size=0", None),
        ):
            conforms(send(api, method, path, sent), 400, kw.FieldErrors)
        conforms(api.delete(one), 200, ex.Deleted)
        for method in ("GET", "PATCH", "DELETE"):
            conforms(send(api, method, one, {} if method == "PATCH" else None), 404, Detail)
        conforms(api.get(f"{one}rows/"), 404, Detail)


def test_humanloop_dataset_answers(tenant: Tenant) -> None:
    points = [
        {"inputs": {"q": "?"}, "target": {"a": 1}},
        {"messages": [{"role": "user", "content": "hi"}]},
    ]
    body = {"path": f"{uuid.uuid4().hex[:8]}/set", "datapoints": points, "version_name": "v1"}
    with tenant.client("x-api-key") as api:
        made = conforms(api.post("/v5/datasets", json=body), 200, hld.DatasetResponse)
        again = body | {"id": made["id"], "version_name": "v2"}
        with_points = api.post("/v5/datasets?include_datapoints=true", json=again)
        conforms(with_points, 200, hld.DatasetResponse)
        conforms(api.post("/v5/datasets", json=body), 409, Detail)
        conforms(api.post("/v5/datasets", json={"path": "x"}), 422, hl.HTTPValidationError)
        one = f"/v5/datasets/{made['id']}"
        conforms(api.get(f"{one}?include_datapoints=true"), 200, hld.DatasetResponse)
        conforms(api.get("/v5/datasets/ds_none"), 404, Detail)
        moved = api.patch(one, json={"path": f"{uuid.uuid4().hex[:8]}/moved"})
        conforms(moved, 200, hld.DatasetResponse)
        conforms(api.patch(one, json={"name": "a/b"}), 422, hl.HTTPValidationError)
        conforms(api.get("/v5/datasets?size=5"), 200, hld.PaginatedDatasetResponse)
        conforms(api.get(f"{one}/datapoints"), 200, hld.PaginatedDatapointResponse)
        conforms(api.get(f"{one}/versions?include_datapoints=latest_saved"), 200, hld.ListDatasets)
        csv_file = {"file": ("d.csv", b"q,target\r\nx,{}\r\n", "text/csv")}
        uploaded = api.post(f"{one}/datapoints/csv", files=csv_file)
        conforms(uploaded, 200, hld.DatasetResponse)
        bad = api.post(f"{one}/datapoints/csv", files={"file": ("d.csv", b"\xff", "text/csv")})
        conforms(bad, 422, hl.HTTPValidationError)
        version = f"{one}/versions/{made['version_id']}"
        named = conforms(api.patch(version, json={"name": "first"}), 200, hld.DatasetResponse)
        assert named["version_name"] == "first"
        conforms(api.patch(version, json={"name": "v2"}), 409, Detail)
        conforms(api.patch(f"{one}/versions/dsv_nope", json={}), 404, Detail)
        deploy = f"{one}/environments/staging"
        staged = api.post(deploy, params={"version_id": made["version_id"]})
        assert conforms(staged, 200, hld.DatasetResponse)["environments"][0]["name"] == "staging"
        envs = api.get(f"{one}/environments")
        envs = conforms(envs, 200, list[hld.DatasetEnvironmentResponse])
        assert [e["file"] is not None for e in envs] == [False, True]
        conforms(api.get(one, params={"environment": "production"}), 404, Detail)
        conforms(api.delete(version), 409, Detail)  # deployed
        removed = api.delete(deploy)
        assert removed.status_code == 204 and not removed.content
        conforms(api.delete(deploy), 404, Detail)
        gone = api.delete(version)
        assert gone.status_code == 204 and not gone.content
        conforms(api.delete(version), 404, Detail)
        deleted = api.delete(one)
        assert deleted.status_code == 204 and not deleted.content


# --- prompts --------------------------------------------------------------------------------

PR = "/api/prompts/"
PR_ONE = f"{PR}{{prompt_id}}/"
PROMPT_ROUTES = [
    ("POST", PR),
    ("GET", f"{PR}list/"),
    *((method, PR_ONE) for method in ("GET", "PATCH", "DELETE")),
    *((method, f"{PR_ONE}versions/") for method in ("GET", "POST")),
    *((method, f"{PR_ONE}versions/{{version}}/") for method in ("GET", "PATCH")),
]


def test_prompt_answers(tenant: Tenant) -> None:
    with tenant.client() as api:
        made = conforms(api.post(PR, json={"name": uuid.uuid4().hex[:8]}), 201, kwp.Prompt)
        one = f"{PR}{made['id']}/"
        conforms(api.post(PR, json={"name": "a/b"}), 400, kw.FieldErrors)
        conforms(api.get(f"{PR}list/?page_size=1"), 200, kwp.PromptList)
        conforms(api.get(f"{PR}list/?page=0"), 400, kw.FieldErrors)
        conforms(api.get(one), 200, kwp.Prompt)
        conforms(api.get(f"{PR}pr_none/"), 404, Detail)
        conforms(api.patch(one, json={"description": "d"}), 200, kwp.Prompt)
        conforms(api.patch(one, json={"deploy": True}), 400, kw.FieldErrors)
        body = {
            "messages": [{"role": "user", "content": "{{q}}"}],
            "model": "gpt-4o",
            "tools": [{"type": "function", "function": {"name": "f"}}],
            "tool_choice": "auto",
            "response_format": {"type": "json_object"},
            "variables": {"q": "x"},
            "stream": True,
        }
        version = conforms(api.post(f"{one}versions/", json=body), 201, kwp.PromptVersion)
        conforms(api.post(f"{one}versions/", json={"top_p": 2}), 400, kw.FieldErrors)
        conforms(api.get(f"{one}versions/"), 200, kwp.PromptVersionList)
        numbered = f"{one}versions/{version['version']}/"
        conforms(api.get(numbered), 200, kwp.PromptVersion)
        conforms(api.get(f"{one}versions/9/"), 404, Detail)
        conforms(api.patch(numbered, json={"deploy": True}), 200, kwp.PromptVersion)
        conforms(api.patch(numbered, json={"model": "m"}), 400, kw.FieldErrors)
        conforms(api.patch(f"{one}versions/1/", json={**body, "stream": True}), 409, Detail)
        conforms(api.patch(one, json={"deploy": True}), 200, kwp.Prompt)
        assert api.delete(one).status_code == 204
        conforms(api.delete(one), 404, Detail)


HLE = "/v5/evaluations"
EVALUATION_ROUTES = [
    *((method, HLE) for method in ("GET", "POST")),
    *((method, f"{HLE}/{{id}}") for method in ("GET", "DELETE")),
    ("POST", f"{HLE}/{{id}}/evaluators"),
    ("DELETE", f"{HLE}/{{id}}/evaluators/{{evaluator_version_id}}"),
    *((method, f"{HLE}/{{id}}/runs") for method in ("GET", "POST")),
    *((method, f"{HLE}/{{id}}/runs/{{run_id}}") for method in ("POST", "PATCH", "DELETE")),
    ("POST", f"{HLE}/{{id}}/runs/{{run_id}}/logs"),
    *(("GET", f"{HLE}/{{id}}/{tail}") for tail in ("stats", "logs")),
]


def test_humanloop_evaluation_answers(tenant: Tenant) -> None:
    with tenant.client("x-api-key") as api:
        prompt = api.post(
            "/v5/prompts/log",
            json={"path": uuid.uuid4().hex[:8], "prompt": {"model": "m"}, "output": "x"},
        ).json()
        judge = api.post(
            "/v5/evaluators", json={"path": f"judges/{uuid.uuid4().hex[:8]}", "spec": SPEC}
        ).json()
        points = [{"inputs": {"q": "?"}, "target": {"output": "x"}}]
        dataset = api.post(
            "/v5/datasets", json={"path": uuid.uuid4().hex[:8], "datapoints": points}
        ).json()
        body = {
            "file": {"id": prompt["prompt_id"]},
            "name": "e",
            "evaluators": [{"id": judge["id"]}],
        }
        made = conforms(api.post(HLE, json=body), 200, hle.EvaluationResponse)
        conforms(api.post(HLE, json=body), 409, Detail)
        conforms(api.post(HLE, json={"evaluators": []}), 422, hl.HTTPValidationError)
        one = f"{HLE}/{made['id']}"
        conforms(api.get(one), 200, hle.EvaluationResponse)
        conforms(api.get(f"{HLE}/evr_none"), 404, Detail)
        listed = api.get(f"{HLE}?file_id={prompt['prompt_id']}&size=5")
        conforms(listed, 200, hle.PaginatedEvaluationResponse)
        added = api.post(f"{one}/evaluators", json={"evaluators": [{"id": judge["id"]}]})
        conforms(added, 200, hle.EvaluationResponse)
        run_body = {
            "dataset": {"version_id": dataset["version_id"]},
            "version": {"version_id": prompt["version_id"]},
        }
        run = conforms(api.post(f"{one}/runs", json=run_body), 200, hle.EvaluationRunResponse)
        conforms(api.post(f"{one}/runs", json={"orchestrated": True}), 422, hl.HTTPValidationError)
        one_point = api.get(f"/v5/datasets/{dataset['id']}?include_datapoints=true").json()
        logged = api.post(
            "/v5/prompts/log",
            json={
                "id": prompt["prompt_id"],
                "output": "x",
                "run_id": run["id"],
                "source_datapoint_id": one_point["datapoints"][0]["id"],
            },
        ).json()
        api.post(
            "/v5/evaluators/log", json={"id": judge["id"], "parent_id": logged["id"], "judgment": 3}
        )
        other = conforms(api.post(f"{one}/runs", json={}), 200, hle.EvaluationRunResponse)
        with_logs = api.post(f"{one}/runs/{other['id']}/logs", json={"log_ids": [logged["id"]]})
        conforms(with_logs, 200, hle.EvaluationRunResponse)
        conforms(
            api.post(f"{one}/runs/{other['id']}/logs", json={"log_ids": ["nope"]}),
            422,
            hl.HTTPValidationError,
        )
        conforms(api.get(f"{one}/runs"), 200, hle.EvaluationRunsResponse)
        conforms(api.get(f"{one}/stats"), 200, hle.EvaluationStats)
        conforms(api.get(f"{one}/logs?size=5"), 200, hle.PaginatedDataEvaluationLogResponse)
        patched = api.patch(
            f"{one}/runs/{other['id']}", json={"control": True, "status": "completed"}
        )
        conforms(patched, 200, hle.EvaluationRunResponse)
        conforms(
            api.patch(f"{one}/runs/{other['id']}", json={"status": "cancelled"}),
            422,
            hl.HTTPValidationError,
        )
        second = conforms(api.post(HLE, json=body | {"name": "f"}), 200, hle.EvaluationResponse)
        shown = api.post(f"{HLE}/{second['id']}/runs/{run['id']}")
        conforms(shown, 200, hle.EvaluationRunResponse)
        conforms(api.post(f"{HLE}/{second['id']}/runs/run_none"), 404, Detail)
        assert api.delete(f"{HLE}/{second['id']}/runs/{run['id']}").status_code == 204
        removed = api.delete(f"{one}/evaluators/{judge['version_id']}")
        conforms(removed, 200, hle.EvaluationResponse)
        conforms(api.delete(f"{one}/evaluators/{judge['version_id']}"), 404, Detail)
        deleted = api.delete(one)
        assert deleted.status_code == 204 and not deleted.content


# Sign-in: the routes a client calls without credentials.
OPEN = [("POST", "/auth/jwt/create/"), ("POST", "/auth/jwt/refresh/")]
# Every operation of both dialects, as /openapi.json lists it.
ROUTES = [
    *(("POST", f"{KW}/{tail}") for tail in ("", "create/", "bulk/", "list/", "summary/")),
    ("GET", f"{KW}/list/"),
    ("PATCH", f"{KW}/batch-update/"),
    *((method, f"{KW}/{{unique_id}}/") for method in ("GET", "PATCH", "DELETE")),
    ("GET", f"{KW}/{{unique_id}}/history/"),
    *((method, f"{KW}/export/") for method in ("GET", "POST")),
    ("GET", "/api/datasets/{dataset_id}/export/"),
    *((method, "/v5/datasets") for method in ("GET", "POST")),
    *((method, "/v5/datasets/{id}") for method in ("GET", "PATCH", "DELETE")),
    *(("GET", f"/v5/datasets/{{id}}/{tail}") for tail in ("datapoints", "versions")),
    ("POST", "/v5/datasets/{id}/datapoints/csv"),
    *((method, "/v5/datasets/{id}/versions/{version_id}") for method in ("PATCH", "DELETE")),
    ("GET", "/v5/datasets/{id}/environments"),
    *((method, "/v5/datasets/{id}/environments/{environment_id}") for method in ("POST", "DELETE")),
    *(("GET", f"/api/{tail}") for tail in ("jobs/", "jobs/summary/")),
    ("POST", "/api/evaluators/{evaluator_id}/run/"),
    *(
        route
        for prefix, name in (
            ("/api/evaluators/", "evaluator"),
            ("/api/logs/{log_id}/scores/", "score"),
            ("/api/scores/", "score"),
            ("/automation/automations/", "automation"),
            ("/automation/conditions/", "condition"),
        )
        for route in (
            ("GET", prefix),
            ("POST", prefix),
            *((method, f"{prefix}{{{name}_id}}/") for method in ("GET", "PATCH", "DELETE")),
        )
    ),
    *(("POST", f"/v5/{kind}s/log") for kind in ("prompt", "agent", "flow", "tool", "evaluator")),
    *(("POST", f"/v5/{kind}s") for kind in ("prompt", "agent", "flow", "tool", "evaluator")),
    *(("GET", f"/v5/{kind}s/{{id}}") for kind in ("prompt", "agent", "flow", "tool", "evaluator")),
    ("PATCH", "/v5/flows/logs/{log_id}"),
    *(("PATCH", f"/v5/{kind}s/{{id}}/log/{{log_id}}") for kind in ("agent", "prompt", "tool")),
    ("GET", "/v5/logs/{id}"),
    ("GET", "/v5/logs"),
    ("DELETE", "/v5/logs"),
    ("POST", "/v5/files/retrieve-by-path"),
    *(("GET", f"/v5/{kind}s") for kind in ("prompt", "agent", "flow", "tool", "evaluator")),
    *(
        (method, f"/v5/{kind}s/{{id}}")
        for kind in ("prompt", "agent", "flow", "tool", "evaluator")
        for method in ("PATCH", "DELETE")
    ),
    *(
        ("GET", f"/v5/{kind}s/{{id}}/versions")
        for kind in ("prompt", "agent", "flow", "tool", "evaluator")
    ),
    *(
        (method, f"/v5/{kind}s/{{id}}/versions/{{version_id}}")
        for kind in ("prompt", "agent", "flow", "tool", "evaluator")
        for method in ("PATCH", "DELETE")
    ),
    ("GET", "/v5/files"),
    ("POST", "/v5/prompts/{id}/populate"),
    ("POST", "/v5/prompts/call"),
    *(("POST", f"/v5/agents/{tail}") for tail in ("call", "continue")),
    ("POST", "/v5/tools/call"),
    *(("GET", f"/v5/{kind}s/{{id}}/serialize") for kind in ("prompt", "agent")),
    *(("POST", f"/v5/{kind}s/deserialize") for kind in ("prompt", "agent")),
    *((method, "/v5/tools/{id}/environment-variables") for method in ("GET", "POST")),
    ("DELETE", "/v5/tools/{id}/environment-variables/{name}"),
    *((method, "/v5/directories") for method in ("GET", "POST")),
    *((method, "/v5/directories/{id}") for method in ("GET", "PATCH", "DELETE")),
    *(
        (method, f"/v5/{kind}s/{{id}}/environments{tail}")
        for kind in ("prompt", "agent", "flow", "tool", "evaluator")
        for method, tail in (
            ("GET", ""),
            ("POST", "/{environment_id}"),
            ("DELETE", "/{environment_id}"),
        )
    ),
    *OPEN,
    ("GET", "/auth/users/me/"),
    ("GET", "/api/audit/"),
    ("GET", "/api/privacy/"),
    ("PATCH", "/api/privacy/"),
    *(
        ("POST", f"/v5/{kind}s/{{id}}/evaluators")
        for kind in ("prompt", "agent", "flow", "tool", "evaluator")
    ),
    *DATASET_ROUTES,
    *PROMPT_ROUTES,
    *EVALUATION_ROUTES,
    *EXPERIMENT_ROUTES,
]


# The OTLP surface's: their refusals are `google.rpc.Status` bodies.
OTLP_ROUTES = [
    *(("POST", path) for path in ("/v1/traces", "/api/v1/traces", "/api/v1/traces/ingest")),
    ("POST", "/v1/logs"),
    ("POST", "/v1/metrics"),
    ("POST", "/v5/import/otel/v1/traces"),
]


def test_every_route_answers_a_missing_key_with_401(server: Server) -> None:
    spec = httpx.get(f"{server.base_url}/openapi.json", timeout=60).json()
    listed = {(m.upper(), path) for path, item in spec["paths"].items() for m in item}
    assert listed == set(ROUTES) | set(OTLP_ROUTES), "a route without its answers checked here"
    with httpx.Client(base_url=server.base_url) as anonymous:
        for method, path in set(ROUTES) - set(OPEN):
            conforms(
                anonymous.request(method, path.format_map(defaultdict(lambda: "x"))),
                401,
                Detail,
            )
        for method, path in OTLP_ROUTES:
            conforms(anonymous.request(method, path), 401, otlp.Status)


@pytest.mark.parametrize("path", [f"{KW}/", "/v5/prompts/log"])
def test_oversize_bodies_answer_413(api: httpx.Client, path: str) -> None:
    oversize = b" " * (DEFAULT_MAX_BODY_BYTES + 1)
    conforms(api.post(path, content=oversize), 413, Detail)


def test_people_answers(server: Server, tenant: Tenant, person_factory) -> None:
    """Sign-in, refresh, who am I and the audit trail, and their refusals."""
    admin, viewer = person_factory(tenant.org, "admin"), person_factory(tenant.org, "viewer")
    with httpx.Client(base_url=server.base_url) as anonymous:
        signed_in = anonymous.post(
            "/auth/jwt/create/", json={"email": admin.email, "password": PASSWORD}
        )
        tokens = conforms(signed_in, 200, kw.TokenPair)
        refreshed = anonymous.post("/auth/jwt/refresh/", json={"refresh": tokens["refresh"]})
        conforms(refreshed, 200, kw.AccessToken)
        wrong = {"email": admin.email, "password": "wrong password"}
        conforms(anonymous.post("/auth/jwt/create/", json=wrong), 401, Detail)
        conforms(anonymous.post("/auth/jwt/create/", json={"email": "e"}), 400, kw.FieldErrors)
        conforms(anonymous.post("/auth/jwt/refresh/", json={"refresh": "a.b.c"}), 401, Detail)
        conforms(anonymous.post("/auth/jwt/refresh/", json={}), 400, kw.FieldErrors)
    with httpx.Client(base_url=server.base_url, headers=admin.headers) as api:
        conforms(api.get("/auth/users/me/"), 200, kw.Me)
        conforms(api.get("/api/audit/?page_size=1"), 200, kw.AuditPage)
        conforms(api.get("/api/audit/?page=0"), 400, kw.FieldErrors)
        conforms(api.get("/api/privacy/"), 200, kw.PrivacySettings)
        conforms(api.patch("/api/privacy/", json={"maskers": ["email"]}), 200, kw.PrivacySettings)
        conforms(api.patch("/api/privacy/", json={"maskers": ["x"]}), 400, kw.FieldErrors)
    with httpx.Client(base_url=server.base_url, headers=viewer.headers) as api:
        conforms(api.get("/api/audit/"), 403, Detail)
        conforms(api.get("/api/privacy/"), 403, Detail)
        conforms(api.patch("/api/privacy/", json={}), 403, Detail)
        conforms(api.post("/api/request-logs/", json={}), 403, Detail)
        conforms(api.post("/v5/prompts/log", json={}), 403, Detail)
    with tenant.client() as keyed:
        conforms(keyed.get("/auth/users/me/"), 401, Detail)
