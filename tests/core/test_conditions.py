"""A condition checked on new logs and the same condition as a list filter select the same
logs: one predicate engine (property test over random policies and a varied store)."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from llmtrail.core import conditions, queries
from llmtrail.core.filters import parse_filters
from llmtrail.core.ids import utcnow
from llmtrail.core.ingest import write_logs
from llmtrail.core.keys import Principal, authenticate, create_key
from llmtrail.core.logs import LogData
from llmtrail.store import evaluation as store
from llmtrail.store.filtering import compile_filter
from tests.helpers import in_writer

# The policy's word operators as the list filter language documents them (contract §5).
AS_FILTER = {
    "equals": "",
    "not_equals": "not",
    "greater_than": "gt",
    "less_than": "lt",
    "greater_than_or_equal": "gte",
    "less_than_or_equal": "lte",
    "contains": "contains",
    "not_contains": "not_contains",
    "in": "in",
    "not_in": "not_in",
}
NUMERIC = ("status_code", "latency", "cost", "total_tokens", "input_tokens", "output_tokens")
TEXTUAL = ("model", "metadata.tier")
VALUES = {
    "status_code": [200, 400, 500],
    "latency": [0.5, 1.0, 2.5],
    "cost": [0.001, 0.01],
    "total_tokens": [50, 200],
    "input_tokens": [10, 100],
    "output_tokens": [5, 80],
    "model": ["gpt-4o", "claude", "gpt"],
    "metadata.tier": ["gold", "silver", "old"],
}


@pytest.fixture(scope="module")
def store_of_logs(engine: Engine) -> tuple[Principal, list[int]]:
    _, key = create_key(engine, org=f"conditions-{uuid.uuid4().hex[:8]}")
    principal = authenticate(engine, key)
    rng = random.Random(7)
    now = utcnow()
    new = []
    for n in range(80):
        prompt, completion = rng.choice([10, 60, 100, 150]), rng.choice([5, 40, 80, 120])
        new.append(
            LogData(
                unique_id=f"c{n}",
                timestamp=now - timedelta(minutes=n),
                model=rng.choice(["gpt-4o", "gpt-4o-mini", "claude-3", None]),
                status_code=rng.choice([200, 200, 400, 500]),
                latency=rng.choice([0.2, 0.5, 1.0, 2.5, 4.0, None]),
                cost=rng.choice([0.0005, 0.001, 0.02, None]),
                prompt_tokens=prompt,
                completion_tokens=completion,
                metadata=rng.choice([{"tier": "gold"}, {"tier": "silver"}, {"tier": 3}, None]),
            )
        )
    rows = in_writer(engine, lambda w: write_logs(w, principal, new))
    ids = queries.list_logs(
        engine,
        principal,
        queries.LogQuery(start_time=now - timedelta(days=1), end_time=now, page_size=1000),
    )[1]
    assert len(rows) == len(ids) == 80
    return principal, [row.id for row in ids]


@st.composite
def rules(draw: st.DrawFn) -> dict:
    field = draw(st.sampled_from([*NUMERIC, *TEXTUAL]))
    words = ["equals", "not_equals", "in", "not_in"]
    words += ["greater_than", "less_than", "greater_than_or_equal", "less_than_or_equal"]
    words += ["contains", "not_contains"] if field in TEXTUAL else []
    operator = draw(st.sampled_from(words))
    if field == "metadata.tier" and operator in words[4:8]:
        operator = "equals"  # metadata compares numbers only with numbers
    values = VALUES[field]
    if operator in ("in", "not_in"):
        value = draw(st.lists(st.sampled_from(values), min_size=1, max_size=2, unique=True))
    else:
        value = draw(st.sampled_from(values))
    return {"field": field, "operator": operator, "value": value}


def as_list_filter(policy: dict) -> dict:
    """The list filter a user would write for the same policy."""
    filters: dict[str, list[dict]] = {}
    for rule in policy["rules"]:
        field = rule["field"].replace("metadata.", "metadata__")
        spec = {"operator": AS_FILTER[rule["operator"]], "value": rule["value"]}
        filters.setdefault(field, []).append({**spec, "connector": policy["connector"]})
    return filters


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(chosen=st.lists(rules(), min_size=1, max_size=3), connector=st.sampled_from(["AND", "OR"]))
def test_a_condition_and_its_list_filter_select_the_same_logs(
    engine: Engine, store_of_logs: tuple[Principal, list[int]], chosen: list[dict], connector: str
) -> None:
    principal, ids = store_of_logs
    policy = {"rules": chosen, "connector": connector}
    where = compile_filter(conditions.to_filters(policy), principal.org_id)
    with engine.connect() as conn:
        on_new_logs = {r.id for r in conn.execute(store.logs_among(principal.org_id, ids, where))}
    now = utcnow()
    listed = queries.list_logs(
        engine,
        principal,
        queries.LogQuery(
            filters=parse_filters(as_list_filter(policy)),
            start_time=now - timedelta(days=1),
            end_time=now,
            page_size=1000,
        ),
    )[1]
    assert on_new_logs == {row.id for row in listed}
