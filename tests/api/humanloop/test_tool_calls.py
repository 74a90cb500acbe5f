"""`tools.call` through the official SDK: a Tool's code runs in the sandbox with its
environment variables, and the run is logged as a Tool Log."""

from __future__ import annotations

import json
import uuid

import pytest
from humanloop import Humanloop
from humanloop.core.api_error import ApiError

from tests.conftest import Tenant

SOURCE = """
import os

def forecast(city, days=1):
    print("looking up", city)
    return {"city": city, "days": days, "key_ends": os.environ["API_KEY"][-4:]}

def broken(city):
    return 1 / 0
"""


@pytest.fixture
def hl(tenant: Tenant) -> Humanloop:
    return Humanloop(api_key=tenant.key, base_url=tenant.base_url + "/v5")


def tool(hl: Humanloop, function: str) -> str:
    path = f"{uuid.uuid4().hex[:8]}/{function}"
    made = hl.tools.upsert(
        path=path,
        function={"name": function, "description": "d", "parameters": {"type": "object"}},
        source_code=SOURCE,
    )
    hl.tools.add_environment_variable(made.id, request=[{"name": "API_KEY", "value": "sk-1234"}])
    return path


def test_a_tool_runs_with_its_environment_and_the_run_is_logged(hl: Humanloop) -> None:
    called = hl.tools.call(path=tool(hl, "forecast"), inputs={"city": "Paris", "days": 2})
    assert json.loads(called.output) == {"city": "Paris", "days": 2, "key_ends": "1234"}
    assert called.error is None and "looking up Paris" in called.stdout
    assert called.provider_latency is not None and called.inputs == {"city": "Paris", "days": 2}
    stored = hl.logs.get(called.id)
    assert stored["output"] == called.output and stored["tool"]["id"] == called.tool.id


def test_what_the_code_does_wrong_is_the_runs_error(hl: Humanloop) -> None:
    called = hl.tools.call(path=tool(hl, "broken"), inputs={"city": "Paris"})
    assert called.output is None and "ZeroDivisionError" in called.error
    assert hl.logs.get(called.id)["error"] == called.error
    wrong = hl.tools.call(path=tool(hl, "forecast"), inputs={"town": "Paris"})
    assert "TypeError" in wrong.error, "an input the function does not take"


def test_a_tool_without_code_is_refused(hl: Humanloop) -> None:
    path = f"{uuid.uuid4().hex[:8]}/nocode"
    hl.tools.upsert(path=path, function={"name": "f", "description": "d"})
    with pytest.raises(ApiError) as refused:
        hl.tools.call(path=path, inputs={})
    assert refused.value.status_code == 422
    assert refused.value.body.detail[0].loc == ["body", "tool", "source_code"]


def test_another_organizations_tool_is_not_run(hl: Humanloop, tenant_factory) -> None:  # type: ignore[no-untyped-def]
    stranger = tenant_factory()
    other = Humanloop(api_key=stranger.key, base_url=stranger.base_url + "/v5")
    theirs = other.tools.get(
        other.tools.call(path=tool(other, "forecast"), inputs={"city": "x"}).tool.id
    )
    with pytest.raises(ApiError) as refused:
        hl.tools.call(id=theirs.id, inputs={"city": "x"})
    assert refused.value.status_code == 404
