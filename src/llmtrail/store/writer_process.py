"""The group writer in a process of its own, fed by the server over a socket.

In one process the writer thread and the event loop share one GIL. The writer gives it up
a dozen times a commit, on every call into the database, and each time waits for the busy
loop to hand it back: under single-log Humanloop requests from 8 clients a commit that
takes 0.35 ms alone took 1.8 ms, and the writer, not the CPU, capped ingest at 2,400
logs/s. In a process of its own the writer has a GIL (and a core) to itself. The server
only frames each submission onto a socket and resolves the request's future when the
answer comes back, on the event loop, with no thread of its own.

A frame is a 4-byte big-endian length and a pickle. The writer process first says it is
ready (`READY`, once its database answers); then the server sends `(id, submission)` and
the writer answers `(id, error, prepared values, result)` once the transaction holding the
submission has committed (`error` None) or refused it. Submissions carry their hooks as
plain objects (`Submission.__getstate__`). The writer process gets its event dispatcher
from `setup`, a `module:function` the server names (the domain's, with its subscribers
loaded), so this module knows nothing of what subscribes.
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import logging
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from functools import partial
from typing import Any

from llmtrail.settle import settle
from llmtrail.store.admission import Admission
from llmtrail.store.writer import Dispatch, GroupCommitWriter, Submission

log = logging.getLogger(__name__)

_LENGTH = struct.Struct("!I")
READY = -1  # the id of the writer process's first frame
START_TIMEOUT = 60
Answer = tuple[BaseException | None, dict[str, Any] | None, Any]


class WriterGone(RuntimeError):
    """The writer process stopped before answering: the write was not acknowledged."""


def _frame(value: Any) -> bytes:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(payload)) + payload


class WriterProcess:
    """The server's side. `await write(submission)` returns once the writer process has
    committed it, and raises what refused it. A writer process that dies fails the writes
    it had not answered; the next write starts a new one. `admission` bounds what was sent
    and not answered, and what waits to be sent (`store.admission`)."""

    def __init__(self, database_url: str, setup: str, admission: Admission) -> None:
        self._database_url = database_url
        self._setup = setup
        self._admission = admission
        self._process: subprocess.Popen | None = None
        self._link: _Link | None = None
        self._starting: asyncio.Lock | None = None
        self._ids = itertools.count()

    @property
    def pid(self) -> int | None:
        """The writer process's id, once one was started."""
        return self._process.pid if self._process is not None else None

    async def start(self) -> None:
        """Start the writer process and wait until it is ready to write."""
        await self._connected()

    async def write(self, submission: Submission) -> None:
        ident = next(self._ids)
        frame = _frame((ident, submission))
        async with self._admission.admit(submission.size, len(frame)) as permit:
            link = await self._connected()
            answer = permit.hold_until(link.send(ident, frame))
        # Shielded: a request that stops waiting leaves its rows queued, and their room taken.
        error, prepared, result = await asyncio.shield(answer)
        if error is not None:
            raise error
        submission.complete(prepared)  # what `prepare` found, on the server's copy of the rows
        submission.result = result

    async def _connected(self) -> _Link:
        if self._link is not None and not self._link.lost:
            return self._link
        self._starting = self._starting or asyncio.Lock()
        async with self._starting:
            if self._link is None or self._link.lost:
                self._link = await self._start()
        return self._link

    async def _start(self) -> _Link:
        if self._process is not None:  # a writer process that stopped answering: reap it
            self._process.kill()
            await asyncio.to_thread(self._process.wait)
        ours, theirs = socket.socketpair()
        env = {**os.environ, "LLMTRAIL_DATABASE_URL": self._database_url}
        try:
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "llmtrail.store.writer_process",
                    str(theirs.fileno()),
                    self._setup,
                ],
                pass_fds=[theirs.fileno()],
                env=env,
            )
        finally:
            theirs.close()
        loop = asyncio.get_running_loop()
        _, link = await loop.create_unix_connection(_Link, sock=ours)
        try:
            await asyncio.wait_for(link.ready, START_TIMEOUT)
        except WriterGone:
            raise WriterGone(f"the writer process exited ({self._process.wait()})") from None
        return link

    async def close(self, timeout: float = 60.0) -> None:
        """Let the writer process commit what it was sent, then wait for it to exit (killed
        after `timeout` seconds: what it had not committed then was not acknowledged)."""
        if self._link is not None and not self._link.lost:
            self._link.finish()
        if self._process is not None:
            try:
                await asyncio.to_thread(self._process.wait, timeout)
            except subprocess.TimeoutExpired:
                log.error("the writer process did not exit within %g s; killing it", timeout)
                self._process.kill()


class _Link(asyncio.Protocol):
    """The socket to the writer process, on the server's event loop."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._waiting: dict[int, asyncio.Future[Answer]] = {}
        self._transport: asyncio.Transport | None = None
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def send(self, ident: int, frame: bytes) -> asyncio.Future[Answer]:
        future = asyncio.get_running_loop().create_future()
        self._waiting[ident] = future
        assert self._transport is not None
        self._transport.write(frame)
        return future

    def finish(self) -> None:
        assert self._transport is not None
        self._transport.write_eof()

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        start = 0
        while len(buffer) - start >= _LENGTH.size:
            (size,) = _LENGTH.unpack_from(buffer, start)
            end = start + _LENGTH.size + size
            if len(buffer) < end:
                break
            ident, *answer = pickle.loads(buffer[start + _LENGTH.size : end])
            start = end
            if ident == READY:
                self.ready.set_result(None)
                continue
            self._waiting.pop(ident).set_result(tuple(answer))
        del buffer[:start]

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self._waiting:
            log.error("the writer process stopped with %d writes unanswered", len(self._waiting))
        gone = WriterGone("the writer process stopped; the write was not acknowledged")
        for future in [self.ready, *self._waiting.values()]:
            if not future.done():
                future.set_exception(gone)
        self._waiting.clear()


# The writer process's side.


def _read_exactly(sock: socket.socket, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _frames(sock: socket.socket) -> Iterator[Any]:
    """Every frame the server sends, until it closes its side."""
    while (header := _read_exactly(sock, _LENGTH.size)) is not None:
        payload = _read_exactly(sock, _LENGTH.unpack(header)[0])
        if payload is None:
            return
        yield pickle.loads(payload)


def _portable(error: BaseException | None) -> BaseException | None:
    """The error as it can cross back: itself when it pickles, its description otherwise."""
    if error is None:
        return None
    try:
        pickle.dumps(error)
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


def _dispatcher(setup: str) -> Dispatch:
    """The dispatcher `setup` (`module:function`) returns."""
    module, _, name = setup.partition(":")
    return getattr(importlib.import_module(module), name)()


def serve(sock: socket.socket, database_url: str, setup: str) -> None:
    """Write every submission the server sends, answering each once it is committed."""
    from llmtrail.store.database import make_engine

    dispatch = _dispatcher(setup)
    engine = make_engine(database_url, plan_each_query=False)
    engine.connect().close()  # fail now, where the server sees it, if the database is away
    writer = GroupCommitWriter(engine, dispatch)
    sending = threading.Lock()
    settle()
    sock.sendall(_frame((READY, None, None, None)))

    def answer(ident: int, submission: Submission, future: Future[None]) -> None:
        error = _portable(future.exception())
        frame = _frame((ident, error, submission.prepared, submission.result))
        with sending:  # answers come from the writer thread; the lock keeps frames whole
            sock.sendall(frame)

    try:
        for ident, submission in _frames(sock):
            submission.future.add_done_callback(partial(answer, ident, submission))
            writer.submit(submission)
    finally:
        writer.close()  # commits and answers what was sent before the server closed its side
        engine.dispose()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    # Ctrl-C, and a service manager's SIGTERM, reach the whole process group: the writer
    # stops when the server closes its side of the socket, after committing what it was
    # sent (the server finishes its requests first), not halfway.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    serve(socket.socket(fileno=int(sys.argv[1])), os.environ["LLMTRAIL_DATABASE_URL"], sys.argv[2])
