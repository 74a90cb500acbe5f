"""The writer process: commits what the server sends, answers after the commit, and what
refuses a write (or the process dying) reaches the request that sent it."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid

import pytest
from sqlalchemy import Engine

from llmtrail.core.traces import ParentLink
from llmtrail.errors import Conflict, Invalid
from llmtrail.plugins import WRITER_SETUP
from llmtrail.store.admission import Admission, Bound
from llmtrail.store.database import make_engine
from llmtrail.store.tables import logs
from llmtrail.store.writer import Submission
from llmtrail.store.writer_process import WriterGone, WriterProcess
from tests.store.conftest import count, row


def run(database_url: str, scenario) -> None:  # type: ignore[no-untyped-def]
    """Run `scenario(writer)` on an event loop, with a writer process around it."""

    async def main() -> None:
        writer = WriterProcess(database_url, WRITER_SETUP, Admission(Bound(50_000, 64 << 20, 5)))
        await writer.start()
        try:
            await scenario(writer)
        finally:
            await writer.close()

    asyncio.run(main())


def test_an_answered_write_is_committed_and_visible_to_another_connection(
    database_url: str, org_id: int
) -> None:
    other = make_engine(database_url)

    async def scenario(writer: WriterProcess) -> None:
        await asyncio.gather(
            *(writer.write(Submission([(logs, [row(org_id), row(org_id)])])) for _ in range(40))
        )
        assert count(other, org_id) == 80

    try:
        run(database_url, scenario)
    finally:
        other.dispose()


def test_refusals_cross_with_their_fields_and_fail_alone(
    database_url: str, engine: Engine, org_id: int
) -> None:
    taken = uuid.uuid4().hex

    async def scenario(writer: WriterProcess) -> None:
        await writer.write(Submission([(logs, [row(org_id, taken)])]))
        orphan = ParentLink(org_id, "no-such-log", "trace_parent_id", open_only=True)
        results = await asyncio.gather(
            writer.write(Submission([(logs, [row(org_id)])], prepare=orphan)),
            writer.write(Submission([(logs, [row(org_id), row(org_id, taken)])])),
            writer.write(Submission([(logs, [row(org_id)])])),
            return_exceptions=True,
        )
        refused, conflict, fine = results
        assert isinstance(refused, Invalid)
        [error] = refused.errors
        assert (error.loc, error.type) == (("trace_parent_id",), "not_found")
        assert isinstance(conflict, Conflict)
        assert fine is None

    run(database_url, scenario)
    assert count(engine, org_id) == 1 + 1, "the refused and the conflicting writes left nothing"


def test_what_prepare_finds_reaches_the_servers_rows(database_url: str, org_id: int) -> None:
    parent = {**row(org_id), "trace_unique_id": "trace-of-parent"}

    async def scenario(writer: WriterProcess) -> None:
        await writer.write(Submission([(logs, [parent])]))
        children = [row(org_id), row(org_id)]
        link = ParentLink(org_id, parent["unique_id"], "trace_parent_id", open_only=True)
        await writer.write(Submission([(logs, children)], prepare=link))
        for child in children:
            assert child["trace_unique_id"] == "trace-of-parent"
            assert child["span_parent_id"] == parent["unique_id"]

    run(database_url, scenario)


def test_a_writer_process_that_dies_fails_its_unanswered_writes_and_is_replaced(
    database_url: str, engine: Engine, org_id: int
) -> None:
    async def scenario(writer: WriterProcess) -> None:
        pid = writer.pid
        os.kill(pid, signal.SIGSTOP)  # frozen: the next write cannot be answered
        pending = asyncio.create_task(writer.write(Submission([(logs, [row(org_id)])])))
        await asyncio.sleep(0.2)
        assert not pending.done()
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(WriterGone):
            await pending
        await writer.write(Submission([(logs, [row(org_id)])]))
        assert writer.pid != pid

    run(database_url, scenario)
    assert count(engine, org_id) == 1
