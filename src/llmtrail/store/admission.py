"""Admission to the writer: a bound, in rows and bytes, on what waits for it.

Without one, a server offered more than its writer commits keeps every request's rows in
memory, queued to be sent or sent and not yet answered, and grows until it is killed. With
one, a write that finds the bound full waits for room, in arrival order; a write that finds
none within the wait is refused (`Overloaded`) before anything of it was sent, so clients
slow down to what the writer can take and a refusal has written nothing.

A permit is held from admission until the writer answers (or is gone), not until the
request stops waiting: a client that goes away does not take its rows off the writer's
queue, so it does not give their room back either.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T", bound=asyncio.Future[Any])


class Overloaded(Exception):
    """The writer had no room for the write within the wait; nothing of it was written."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"the writer's queue stayed full; retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Bound:
    rows: int
    bytes: int
    wait_seconds: float


@dataclass(eq=False)
class Permit:
    """Room for one write, given back once, when released or when the future it is held
    until is done."""

    admission: Admission
    rows: int
    bytes: int
    held: bool = False
    released: bool = False

    def hold_until(self, future: T) -> T:
        """Keep the room taken until `future` is done (the writer answered or is gone)."""
        self.held = True
        future.add_done_callback(lambda _: self.release())
        return future

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.admission._give_back(self)


@dataclass(eq=False)
class _Waiter:
    rows: int
    bytes: int
    granted: asyncio.Future[Permit] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Admission:
    """Rows and bytes admitted and not yet given back, against a bound, on one event loop."""

    def __init__(self, bound: Bound) -> None:
        self.bound = bound
        self.rows = self.bytes = self.permits = 0
        self._waiting: deque[_Waiter] = deque()

    @property
    def retry_after(self) -> int:
        """Whole seconds, at least one: a queue that made no room within the wait will
        hardly make room sooner."""
        return max(1, math.ceil(self.bound.wait_seconds))

    @asynccontextmanager
    async def admit(self, rows: int, size: int) -> AsyncIterator[Permit]:
        """Room for `rows` rows and `size` bytes, for the block and for as long as the block
        asks (`Permit.hold_until`). Raises Overloaded when there was none within the wait."""
        permit = await self._acquire(rows, size)
        try:
            yield permit
        finally:
            if not permit.held:  # the write never left: its room is free again
                permit.release()

    async def _acquire(self, rows: int, size: int) -> Permit:
        if not self._waiting and self._fits(rows, size):
            return self._grant(rows, size)
        waiter = _Waiter(rows, size)
        self._waiting.append(waiter)
        try:
            async with asyncio.timeout(self.bound.wait_seconds):
                return await waiter.granted
        except BaseException as exc:
            self._abandon(waiter)
            if isinstance(exc, TimeoutError):
                raise Overloaded(self.retry_after) from None
            raise

    def _fits(self, rows: int, size: int) -> bool:
        """Within the bound, or alone: a write larger than the bound goes when nothing else
        is admitted, rather than never."""
        within = self.rows + rows <= self.bound.rows and self.bytes + size <= self.bound.bytes
        return within or self.permits == 0

    def _grant(self, rows: int, size: int) -> Permit:
        self.rows += rows
        self.bytes += size
        self.permits += 1
        return Permit(self, rows, size)

    def _give_back(self, permit: Permit) -> None:
        self.rows -= permit.rows
        self.bytes -= permit.bytes
        self.permits -= 1
        self._wake()

    def _wake(self) -> None:
        """Admit waiters in arrival order while the first fits: small writes do not overtake
        a large one, which would otherwise wait for ever under a stream of them."""
        while self._waiting:
            waiter = self._waiting[0]
            if waiter.granted.done():  # timed out or cancelled; its task has yet to run
                self._waiting.popleft()
            elif self._fits(waiter.rows, waiter.bytes):
                self._waiting.popleft()
                waiter.granted.set_result(self._grant(waiter.rows, waiter.bytes))
            else:
                return

    def _abandon(self, waiter: _Waiter) -> None:
        """A waiter that stops waiting: out of the line, or, granted as the wait ran out,
        its room given back. Either way those behind it may now fit."""
        if waiter.granted.done() and not waiter.granted.cancelled():
            waiter.granted.result().release()
            return
        waiter.granted.cancel()
        if waiter in self._waiting:
            self._waiting.remove(waiter)
        self._wake()
