"""Admission to the writer: writes wait in order for room by rows and bytes, are refused when
none comes in time, and give their room back however they end, but only once answered."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import Engine

from llmtrail.errors import Conflict
from llmtrail.plugins import WRITER_SETUP
from llmtrail.store.admission import Admission, Bound, Overloaded
from llmtrail.store.tables import logs
from llmtrail.store.writer import Submission
from llmtrail.store.writer_process import WriterProcess
from tests.store.conftest import count, row

WAIT = 0.2


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(scenario(), 10))


class Writes:
    """Writes entering one admission, each held until the test answers it."""

    def __init__(self, admission: Admission) -> None:
        self.admission = admission
        self.admitted: list[str] = []
        self.answers: dict[str, asyncio.Future[None]] = {}

    def start(self, name: str, rows: int, size: int = 0) -> asyncio.Task[None]:
        self.answers[name] = asyncio.get_running_loop().create_future()

        async def write() -> None:
            async with self.admission.admit(rows, size) as permit:
                self.admitted.append(name)
                permit.hold_until(self.answers[name])

        return asyncio.create_task(write())

    def answer(self, name: str) -> None:
        self.answers[name].set_result(None)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


@pytest.mark.parametrize(("rows", "size"), [(6, 0), (0, 600)], ids=["rows", "bytes"])
def test_a_write_waits_while_the_bound_is_full_by_rows_or_bytes(rows: int, size: int) -> None:
    async def scenario() -> None:
        admission = Admission(Bound(rows=10, bytes=1000, wait_seconds=5))
        writes = Writes(admission)
        await writes.start("first", rows, size)
        second = writes.start("second", rows, size)
        await settle()
        assert writes.admitted == ["first"]
        writes.answer("first")
        await second
        assert writes.admitted == ["first", "second"]
        assert (admission.rows, admission.bytes) == (rows, size)

    run(scenario)


def test_waiters_are_admitted_in_arrival_order_and_small_ones_do_not_overtake() -> None:
    async def scenario() -> None:
        writes = Writes(Admission(Bound(rows=10, bytes=1 << 20, wait_seconds=5)))
        await writes.start("a", 4)
        await writes.start("b", 4)
        waiting = [writes.start("big", 8), writes.start("small", 1), writes.start("next", 1)]
        await settle()
        assert writes.admitted == ["a", "b"], "2 rows are free: `small` fits but waits its turn"
        writes.answer("a")
        await settle()
        assert writes.admitted == ["a", "b"], "6 free: `big` still does not fit"
        writes.answer("b")
        await asyncio.gather(*waiting)
        assert writes.admitted == ["a", "b", "big", "small", "next"]

    run(scenario)


def test_a_write_that_finds_no_room_within_the_wait_is_refused() -> None:
    async def scenario() -> None:
        admission = Admission(Bound(rows=10, bytes=1 << 20, wait_seconds=WAIT))
        writes = Writes(admission)
        await writes.start("held", 10)
        began = asyncio.get_running_loop().time()
        with pytest.raises(Overloaded) as refused:
            await writes.start("late", 1)
        assert WAIT <= asyncio.get_running_loop().time() - began < WAIT + 0.5
        assert refused.value.retry_after == 1
        assert writes.admitted == ["held"]
        assert (admission.rows, admission.permits) == (10, 1), "the refusal took no room"

    run(scenario)


def test_a_refused_head_of_the_line_lets_those_behind_it_in() -> None:
    async def scenario() -> None:
        writes = Writes(Admission(Bound(rows=10, bytes=1 << 20, wait_seconds=WAIT)))
        await writes.start("held", 5)
        big = writes.start("big", 8)
        await asyncio.sleep(WAIT / 2)
        small = writes.start("small", 5)  # fits now, waits behind `big`, which gives up first
        with pytest.raises(Overloaded):
            await big
        await small
        assert writes.admitted == ["held", "small"]

    run(scenario)


def test_a_write_larger_than_the_bound_is_admitted_alone() -> None:
    async def scenario() -> None:
        admission = Admission(Bound(rows=10, bytes=100, wait_seconds=5))
        writes = Writes(admission)
        await writes.start("huge", 500, 10_000)
        small = writes.start("small", 1, 1)
        await settle()
        assert writes.admitted == ["huge"], "nothing goes beside it"
        writes.answer("huge")
        await small
        assert writes.admitted == ["huge", "small"]

    run(scenario)


def test_room_comes_back_when_the_answer_fails_or_the_write_never_left() -> None:
    async def scenario() -> None:
        admission = Admission(Bound(rows=10, bytes=1 << 20, wait_seconds=5))
        answer = asyncio.get_running_loop().create_future()
        async with admission.admit(10, 100) as permit:
            permit.hold_until(answer)
        assert admission.rows == 10, "held until answered"
        answer.set_exception(RuntimeError("the writer refused it"))
        await settle()
        assert (admission.rows, admission.bytes, admission.permits) == (0, 0, 0)
        with pytest.raises(RuntimeError):
            answer.result()
        with pytest.raises(ConnectionError):
            async with admission.admit(10, 100):
                raise ConnectionError("no writer process")  # before anything was sent
        assert (admission.rows, admission.bytes, admission.permits) == (0, 0, 0)

    run(scenario)


def test_a_cancelled_waiter_leaves_the_line() -> None:
    async def scenario() -> None:
        admission = Admission(Bound(rows=10, bytes=1 << 20, wait_seconds=5))
        writes = Writes(admission)
        await writes.start("held", 10)
        gone, after = writes.start("gone", 5), writes.start("after", 5)
        await settle()
        gone.cancel()
        writes.answer("held")
        await after
        assert writes.admitted == ["held", "after"]
        assert gone.cancelled()
        assert admission.rows == 5

    run(scenario)


# Through a real writer process: the hook in `WriterProcess.write`.


def test_the_writer_process_gives_room_back_once_each_write_is_answered(
    database_url: str, engine: Engine, org_id: int
) -> None:
    admission = Admission(Bound(rows=3, bytes=1 << 20, wait_seconds=5))
    taken = row(org_id)

    async def scenario() -> None:
        writer = WriterProcess(database_url, WRITER_SETUP, admission)
        await writer.start()
        try:
            await writer.write(Submission([(logs, [taken])]))
            results = await asyncio.gather(
                *(writer.write(Submission([(logs, [row(org_id), row(org_id)])])) for _ in range(5)),
                writer.write(Submission([(logs, [dict(taken)])])),
                return_exceptions=True,
            )
            assert results[:5] == [None] * 5
            assert isinstance(results[5], Conflict)
            assert (admission.rows, admission.bytes, admission.permits) == (0, 0, 0)

            os.kill(writer.pid, signal.SIGSTOP)  # no answers: a request that gives up...
            three = Submission([(logs, [row(org_id) for _ in range(3)])])
            request = asyncio.create_task(writer.write(three))
            await asyncio.sleep(0.2)
            request.cancel()
            await asyncio.sleep(0.05)
            assert admission.rows == 3, "...leaves its rows queued, and their room taken"
            os.kill(writer.pid, signal.SIGCONT)
            await writer.write(Submission([(logs, [row(org_id)])]))  # admitted once answered
        finally:
            await writer.close()

    asyncio.run(scenario())
    assert count(engine, org_id) == 1 + 5 * 2 + 3 + 1
