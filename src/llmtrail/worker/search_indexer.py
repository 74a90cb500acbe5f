"""The search indexer: drains `log_search_pending` into the trigram index (`store/search.py`)
from the worker process, so no request's commit pays for it.

It indexes when ingest pauses (the queue's newest entry has not changed for a tick), in
small transactions so a commit that arrives meanwhile waits for one chunk at most; and
under sustained ingest, once the queue is longer than `FORCE_AT`, it indexes a chunk every
tick regardless, which bounds what a search must read unindexed. Searches are exact
either way: they read the queued logs' text. On PostgreSQL several workers drain side by
side (each takes other logs); on SQLite a chunk holds the one write lock for its moment.
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
        newest queued log then), or a chunk if the queue is too long. Returns the newest
        queued log now."""
        with self.engine.connect() as conn:
            count, newest = search.backlog(conn)
        if not count:
            return None
        if newest != seen and count <= FORCE_AT:
            return newest  # logs are coming in: wait for a pause
        while not self._stopping.is_set():
            with begin_write(self.engine) as conn:
                done = search.drain(conn, CHUNK)
            with self.engine.connect() as conn:
                count, now_newest = search.backlog(conn)
            if not count or (now_newest != newest and count <= FORCE_AT) or done < CHUNK:
                return now_newest
        return newest
