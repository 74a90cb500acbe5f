"""The search indexer: drains `log_search_pending` into the trigram index (`store/search.py`)
from the worker process, so no request's commit pays for it.

It indexes when ingest pauses (the queue's newest entry has not changed for a tick), in
small transactions so a commit that arrives meanwhile waits for one chunk at most; and
under sustained ingest, once the queue is longer than `FORCE_AT`, it indexes one small
chunk a tick regardless, which slows the queue's growth without taking the writer's lock
away. Searches are exact either way: they read the queued logs' text. On PostgreSQL several
workers drain side by side (each takes other logs); on SQLite a chunk holds the one write
lock for its moment.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

from llmtrail.store import search
from llmtrail.store.database import begin_write

log = logging.getLogger(__name__)

TICK_SECONDS = 0.25
CHUNK = 200  # logs a transaction: about 0.1-0.3 s of the write lock on this machine
FORCE_AT = 20_000
# Logs a tick while ingest goes on and the queue is past FORCE_AT: one short transaction a
# tick, so that SQLite's writer keeps its lock most of the time (back to back, the chunks
# held it so long that bulk ingest of 100,000 logs fell to a third).
FORCED_CHUNK = 50


class SearchIndexer:
    def __init__(self, engine: Engine, tick: float = TICK_SECONDS) -> None:
        self.engine = engine
        self._tick = tick
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="llmtrail-search", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()

    def _loop(self) -> None:
        seen: int | None = None
        while not self._stopping.wait(self._tick):
            try:
                seen = self.step(seen)
            except Exception:  # the database is busy or away for a moment: next tick
                log.exception("indexing logs for search failed")

    def step(self, seen: int | None) -> int | None:
        """One tick: index what is queued if ingest paused since the last tick (`seen`, the
        newest queued log then), or one small chunk if the queue is too long while ingest
        goes on. Returns the newest queued log now."""
        count, newest = self._backlog()
        if not count:
            return None
        if newest != seen:  # logs are coming in: wait for a pause, or index a little
            if count > FORCE_AT:
                self._drain(FORCED_CHUNK)
            return self._backlog()[1]
        while not self._stopping.is_set():  # a pause: index until logs come in again
            done = self._drain(CHUNK)
            count, now_newest = self._backlog()
            if not count or now_newest != newest or done < CHUNK:
                return now_newest
        return newest

    def _drain(self, limit: int) -> int:
        with begin_write(self.engine) as conn:
            return search.drain(conn, limit)

    def _backlog(self) -> tuple[int, int | None]:
        with self.engine.connect() as conn:
            return search.backlog(conn)
