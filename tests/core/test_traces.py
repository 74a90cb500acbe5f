"""Traces read back: many at once in one query, each built from its own logs."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine

from llmtrail.core import traces
from llmtrail.core.ingest import write_logs
from llmtrail.core.keys import Principal, authenticate, create_key
from llmtrail.core.logs import LogData
from tests.helpers import in_writer
from tests.store.test_query_plans import captured


def test_a_page_of_traces_is_read_in_one_query(engine: Engine) -> None:
    _, key = create_key(engine, org=f"traces-{uuid.uuid4().hex[:8]}")
    principal: Principal = authenticate(engine, key)
    flows = [f"flow{n}" for n in range(30)]

    async def fill(writer) -> None:  # type: ignore[no-untyped-def]
        await write_logs(
            writer, principal, [LogData(unique_id=f, log_type="workflow") for f in flows]
        )
        for flow in flows:
            children = [LogData(unique_id=f"{flow}-c{n}") for n in range(3)]
            parent = traces.ParentLink.under(principal.org_id, flow, "chat", "trace_parent_id")
            await write_logs(writer, principal, children, parent)

    in_writer(engine, fill)
    with captured(engine) as statements:
        forest = traces.forest(engine, principal, flows)
    assert len(statements) == 2, "one query finds the logs, one reads all their traces"
    for flow in flows:
        node = forest.node(flow)
        assert node is not None and forest.root_of(node).unique_id == flow
        assert [c.row.unique_id for c in node.children] == [f"{flow}-c{n}" for n in range(3)]
