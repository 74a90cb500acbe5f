"""Job workers as processes of their own: `llmtrail worker`, and the one `serve` starts.

In the server process the engine's threads would share the interpreter lock with the event
loop, and ingest paid for it (measured: a quarter of bulk ingest, and p50 latency at 1,000
logs/s up from 22 to 310 ms). So `serve` starts one worker process beside it, and more can
run anywhere (`llmtrail worker`), on the same database: claims with leases keep them apart.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from datetime import timedelta

from llmtrail import plugins
from llmtrail.config import Settings
from llmtrail.core import retention
from llmtrail.settle import settle
from llmtrail.store.database import make_engine
from llmtrail.worker.engine import JobEngine
from llmtrail.worker.search_indexer import SearchIndexer

_PR_SET_PDEATHSIG = 1


def run(settings: Settings, concurrency: int) -> None:
    """Run jobs (and the search indexer) until SIGTERM or SIGINT, then hand back
    what was claimed and not started."""
    plugins.load_workers()
    engine = make_engine(settings.database_url)
    retention.schedule_all(engine)  # picks up a retention chain that died
    lease = timedelta(seconds=settings.job_lease_seconds)
    jobs = JobEngine(engine, concurrency=concurrency, lease=lease)
    stop_signal = _stop_signal()
    indexer = SearchIndexer(engine)
    settle()
    jobs.start()
    indexer.start()
    os.read(stop_signal, 1)
    indexer.stop()
    jobs.stop(settings.shutdown_timeout_seconds)
    engine.dispose()


def _stop_signal() -> int:
    """A pipe that receives a byte on SIGTERM or SIGINT, for the main thread to wait on.

    The signal handler itself does nothing: a handler that set a `threading.Event` took the
    event's lock, and a second signal arriving inside it (the server's death, then a stop)
    deadlocked the worker on that lock, so it outlived its server."""
    read, write = os.pipe()
    os.set_blocking(write, False)
    signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    return read


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the server that started it dies, however."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(concurrency: int) -> subprocess.Popen:
    """Start a worker beside the server, with the server's environment. It runs this module,
    not the `llmtrail` command: what the command imports for its other verbs (Typer, Rich,
    Alembic) is a third of a worker's memory."""
    command = [sys.executable, "-m", __name__, str(concurrency)]
    return subprocess.Popen(command, preexec_fn=_die_with_parent)


def stop(process: subprocess.Popen, timeout: float) -> None:
    """SIGTERM, and SIGKILL if it has not exited `timeout` seconds later (a little more than
    its own bound for its running jobs: it hands back the jobs it holds after that)."""
    process.terminate()
    try:
        process.wait(timeout + 5)
    except subprocess.TimeoutExpired:
        process.kill()


if __name__ == "__main__":
    from llmtrail.config import load_settings

    run(load_settings(), int(sys.argv[1]))
