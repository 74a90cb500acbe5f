"""The official `humanloop==0.8.38` SDK against `llmtrail serve`: Flows, traces, log_status.

Only the base URL and the key change, as for a user moving from Humanloop.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from humanloop import Humanloop
from humanloop.core.api_error import ApiError
from humanloop.error import HumanloopRuntimeError
from humanloop.errors import UnprocessableEntityError
from humanloop.types import AgentLogResponse, FlowLogResponse


@pytest.fixture
def hl(tenant) -> Humanloop:
    return Humanloop(api_key=tenant.key, base_url=tenant.base_url + "/v5")


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def flow_with_children(hl: Humanloop):
    """A Flow log (incomplete) with a Prompt log and a Tool log nested under it."""
    flow = hl.flows.log(
        path=unique("support/answer"),
        flow={"attributes": {"version": 1}},
        inputs={"question": "Where is my parcel?"},
        log_status="incomplete",
        start_time=datetime.now(UTC) - timedelta(seconds=30),
    )
    prompt = hl.prompts.log(
        path=unique("support/llm"),
        prompt={"model": "gpt-4o", "template": [{"role": "user", "content": "{{question}}"}]},
        messages=[{"role": "user", "content": "Where is my parcel?"}],
        output_message={"role": "assistant", "content": "Let me check."},
        prompt_tokens=40,
        output_tokens=10,
        prompt_cost=0.002,
        output_cost=0.003,
        metadata={"ticket": 7, "tags": ["parcel", "ünïcode"]},
        start_time=datetime.now(UTC) - timedelta(seconds=60),
        trace_parent_id=flow.id,
    )
    tool = hl.tools.log(
        path=unique("support/track"),
        tool={"function": {"name": "track", "parameters": {"properties": {"id": {}}}}},
        inputs={"id": "p-1"},
        output="in transit",
        trace_parent_id=flow.id,
    )
    return flow, prompt, tool


def test_flow_trace_completion_rules(hl: Humanloop) -> None:
    flow, prompt, tool = flow_with_children(hl)
    assert flow.id.startswith("log_") and flow.flow_id.startswith("fl_")
    assert prompt.prompt_id.startswith("pr_") and tool.tool_id.startswith("tl_")

    with pytest.raises(UnprocessableEntityError) as refused:
        hl.flows.update_log(flow.id, log_status="complete")
    assert refused.value.body.detail[0].loc == ["body", "output"]
    assert hl.logs.get(id=flow.id)["log_status"] == "incomplete", "nothing changed"

    before = datetime.now(UTC)
    done = hl.flows.update_log(flow.id, output="It is in transit.", log_status="complete")
    assert isinstance(done, FlowLogResponse)
    assert done.log_status == "complete"
    end = datetime.fromisoformat(str(done.end_time).replace("Z", "+00:00"))
    assert end >= before - timedelta(seconds=1), "completion stamps end_time"
    assert [c.id for c in done.trace_children] == [prompt.id, tool.id]

    with pytest.raises(HumanloopRuntimeError) as child:  # the client wraps the 422 of *.log
        hl.prompts.log(path=unique("late"), prompt={"model": "gpt-4o"}, trace_parent_id=flow.id)
    assert isinstance(child.value.__cause__, UnprocessableEntityError)
    assert child.value.__cause__.body.detail[0].loc == ["body", "trace_parent_id"]

    with pytest.raises(UnprocessableEntityError):
        hl.flows.update_log(flow.id, log_status="incomplete")
    with pytest.raises(UnprocessableEntityError):
        hl.flows.update_log(flow.id, output="changed after completion")
    assert hl.logs.get(id=flow.id)["output"] == "It is in transit."


def test_logs_get_nests_trace_children_and_sums_the_trace(hl: Humanloop) -> None:
    flow, prompt, tool = flow_with_children(hl)
    grandchild = hl.tools.log(
        path=unique("support/lookup"),
        tool={"function": {"name": "lookup"}},
        output="ok",
        trace_parent_id=prompt.id,
    )
    got = hl.logs.get(id=flow.id)
    assert isinstance(got, dict)
    children = got["trace_children"]
    assert [c["id"] for c in children] == [prompt.id, tool.id]
    assert [c["id"] for c in children[0]["trace_children"]] == [grandchild.id]
    assert children[0]["trace_id"] == flow.id and children[0]["trace_parent_id"] == flow.id
    assert children[0]["trace_flow_id"] == flow.flow_id
    assert children[0]["messages"] == [{"role": "user", "content": "Where is my parcel?"}]
    assert children[0]["output_message"] == {"role": "assistant", "content": "Let me check."}
    assert children[0]["metadata"] == {"ticket": 7, "tags": ["parcel", "ünïcode"]}
    assert got["prompt_tokens"] == 40 and got["output_tokens"] == 10
    assert got["prompt_cost"] == pytest.approx(0.002) and got["output_cost"] == pytest.approx(0.003)
    started = datetime.fromisoformat(got["start_time"].replace("Z", "+00:00"))
    assert started <= datetime.now(UTC) - timedelta(seconds=59), "widened to the earliest child"
    assert got["evaluator_logs"] == []
    assert got["flow"]["attributes"] == {"version": 1}


def test_agents_update_log_through_every_field_of_seed_001(hl: Humanloop, tenant) -> None:
    agent = hl.agents.log(
        path=unique("agents/helper"),
        agent={"model": "gpt-4o", "template": "Help with {{topic}}", "max_iterations": 3},
        inputs={"topic": "billing"},
        output="draft",
        error="transient",
        log_status="incomplete",
    )
    cleared = hl.agents.update_log(agent.agent_id, agent.id, output=None, error=None)
    assert cleared.output is None and cleared.error is None, "explicit null unsets"
    assert cleared.log_status == "incomplete"

    messages = [{"role": "user", "content": "Refund please"}]
    reply = {"role": "assistant", "content": "Refund issued."}
    updated = hl.agents.update_log(
        agent.agent_id,
        agent.id,
        messages=messages,
        output_message=reply,
        inputs={"topic": "refunds"},
        output="Refund issued.",
        log_status="complete",
    )
    assert isinstance(updated, AgentLogResponse)
    assert updated.log_status == "complete" and updated.end_time is not None
    assert updated.messages[0].content == "Refund please"
    assert updated.output_message.content == "Refund issued."
    assert updated.inputs == {"topic": "refunds"} and updated.output == "Refund issued."
    assert updated.agent.id == agent.agent_id and updated.agent.model == "gpt-4o"

    with pytest.raises(UnprocessableEntityError):
        hl.agents.update_log(agent.agent_id, agent.id, log_status="incomplete")

    with tenant.client() as api:
        history = api.get(f"/api/request-logs/{agent.id}/history/").json()["results"]
    changed = [(h["field"], h["old_value"], h["new_value"]) for h in history]
    assert ("output", "draft", None) in changed and ("error_message", "transient", None) in changed
    assert ("log_status", "incomplete", "complete") in changed
    assert ("input", {"topic": "billing"}, {"topic": "refunds"}) in changed
    assert {h["source"] for h in history} == {"humanloop:agents.update_log"}


def test_an_agent_completes_only_with_inputs_and_an_output(hl: Humanloop) -> None:
    agent = hl.agents.log(
        path=unique("agents/empty"), agent={"model": "gpt-4o"}, log_status="incomplete"
    )
    with pytest.raises(UnprocessableEntityError) as refused:
        hl.agents.update_log(agent.agent_id, agent.id, output="x", log_status="complete")
    assert refused.value.body.detail[0].loc == ["body", "inputs"]
    done = hl.agents.update_log(
        agent.agent_id, agent.id, inputs={"a": 1}, error="gave up", log_status="complete"
    )
    assert done.log_status == "complete" and done.error == "gave up"


def test_update_routes_check_the_log_and_its_file(hl: Humanloop, tenant) -> None:
    agent = hl.agents.log(
        path=unique("agents/a"), agent={"model": "gpt-4o"}, log_status="incomplete"
    )
    other = hl.agents.log(
        path=unique("agents/b"), agent={"model": "gpt-4o"}, log_status="incomplete"
    )
    with httpx.Client(base_url=tenant.base_url, headers={"X-API-KEY": tenant.key}) as api:
        wrong_owner = api.patch(f"/v5/agents/{other.agent_id}/log/{agent.id}", json={"output": "x"})
        assert wrong_owner.status_code == 404 and wrong_owner.json() == {"detail": "Log not found"}
        unknown = api.patch("/v5/flows/logs/log_nope", json={"output": "x"})
        assert unknown.status_code == 404 and unknown.json() == {"detail": "Log not found"}
        not_a_flow = api.patch(f"/v5/flows/logs/{agent.id}", json={"output": "x"})
        assert not_a_flow.status_code == 404
        history = api.get(f"/api/request-logs/{agent.id}/history/")
    assert history.json()["count"] == 0, "refused patches leave no trace"


def test_logs_list_pages_to_the_end_and_terminates(hl: Humanloop) -> None:
    path = unique("paged/flow")
    ids = [
        hl.flows.log(path=path, flow={"attributes": {}}, inputs={"i": i}, output=str(i)).id
        for i in range(5)
    ]
    file_id = hl.files.retrieve_by_path(path=path).id
    listed = list(hl.logs.list(file_id=file_id, size=2))
    assert sorted(log.id for log in listed) == sorted(ids), "every log once, then it stops"
    assert all(isinstance(log, FlowLogResponse) for log in listed)
    assert all(log.log_status == "complete" for log in listed), "a Flow log with output is complete"


def test_client_chosen_log_id_and_old_trace_status_name(hl: Humanloop, tenant) -> None:
    log_id = unique("medqa_experiment")
    with httpx.Client(base_url=tenant.base_url, headers={"X-API-KEY": tenant.key}) as api:
        response = api.post(
            "/v5/flows/log",
            json={
                "path": unique("legacy/flow"),
                "flow": {"attributes": {}},
                "log_id": log_id,
                "inputs": {"q": 1},
                "trace_status": "incomplete",
            },
        )
        assert response.status_code == 200, response.text
        assert response.json()["id"] == log_id and response.json()["trace_status"] == "incomplete"
        done = api.patch(
            f"/v5/flows/logs/{log_id}", json={"output": "a", "trace_status": "complete"}
        )
        assert done.json()["log_status"] == "complete"
        again = api.post(
            "/v5/flows/log",
            json={"path": unique("legacy/flow"), "flow": {"attributes": {}}, "log_id": log_id},
        )
        assert again.status_code == 409, "a taken log id is refused"


def test_a_field_the_update_does_not_take_is_kept_not_written_to_its_column(tenant) -> None:
    """A Flow update has no `end_time` (completing stamps it): one sent along is tolerated
    and kept aside, never parsed into the column (it was a 500)."""
    with httpx.Client(base_url=tenant.base_url, headers={"X-API-KEY": tenant.key}) as api:
        flow = api.post(
            "/v5/flows/log",
            json={"path": unique("undeclared/flow"), "flow": {"attributes": {}}, "inputs": {}},
        ).json()["id"]
        before = datetime.now(UTC)
        done = api.patch(
            f"/v5/flows/logs/{flow}",
            json={"output": "a", "log_status": "complete", "end_time": "2001-01-01T00:00:00Z"},
        )
        assert done.status_code == 200, done.text
        end = datetime.fromisoformat(done.json()["end_time"].replace("Z", "+00:00"))
        assert end >= before - timedelta(seconds=1), "the completion time, not the one sent"


def test_logs_are_visible_through_the_keywords_dialect_with_their_log_type(
    hl: Humanloop, tenant
) -> None:
    flow, prompt, tool = flow_with_children(hl)
    agent = hl.agents.log(
        path=unique("agents/kw"), agent={"model": "gpt-4o"}, inputs={"a": 1}, output="b"
    )
    evaluation = hl.evaluators.log(
        parent_id=prompt.id,
        path=unique("evals/helpful"),
        spec={"arguments_type": "target_free", "return_type": "boolean", "evaluator_type": "human"},
        judgment=True,
    )
    with tenant.client() as api:
        listed = api.post(
            "/api/request-logs/list/",
            params={"start_time": (datetime.now(UTC) - timedelta(hours=1)).isoformat()},
            json={"filters": {}},
        ).json()["results"]
    types = {r["unique_id"]: r["log_type"] for r in listed}
    assert types[flow.id] == "workflow" and types[prompt.id] == "chat"
    assert types[tool.id] == "tool" and types[agent.id] == "agent"
    assert types[evaluation.id] == "score"
    assert hl.logs.get(id=prompt.id)["evaluator_logs"][0]["judgment"] is True


def test_logs_of_another_organization_are_not_found(hl: Humanloop, tenant_factory) -> None:
    flow, _, _ = flow_with_children(hl)
    stranger = tenant_factory()
    with httpx.Client(base_url=stranger.base_url, headers={"X-API-KEY": stranger.key}) as api:
        assert api.get(f"/v5/logs/{flow.id}").status_code == 404
        assert api.patch(f"/v5/flows/logs/{flow.id}", json={"output": "x"}).status_code == 404
        child = api.post(
            "/v5/prompts/log",
            json={"path": "p", "prompt": {"model": "m"}, "trace_parent_id": flow.id},
        )
        assert child.status_code == 422, "another tenant's log is no parent"


def test_delete_logs_and_required_query_params(hl: Humanloop, tenant) -> None:
    _, prompt, _ = flow_with_children(hl)
    with httpx.Client(base_url=tenant.base_url, headers={"X-API-KEY": tenant.key}) as api:
        missing = api.get("/v5/logs")
        assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == [
            "query",
            "file_id",
        ]
    hl.logs.delete(id=[prompt.id])
    with pytest.raises(ApiError) as gone:
        hl.logs.get(id=prompt.id)
    assert gone.value.status_code == 404
