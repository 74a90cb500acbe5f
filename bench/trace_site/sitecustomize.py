"""On PYTHONPATH of a server `python -m bench.profile --round-trips` starts: in its writer
process only, every psycopg connection traces the PostgreSQL protocol (libpq's PQtrace) to
a file in $BENCH_TRACE_DIR, which `bench.trips` counts."""

import os
import sys

if os.environ.get("BENCH_TRACE_DIR") and "llmtrail.store.writer_process" in sys.orig_argv:
    import psycopg
    from psycopg import pq

    _connect = psycopg.Connection.connect.__func__
    _files = []  # kept open (and flushed at exit) for the connections' lives

    def _traced(cls, *args, **kwargs):
        conn = _connect(cls, *args, **kwargs)
        name = f"trace-{os.getpid()}-{len(_files)}.txt"
        out = open(os.path.join(os.environ["BENCH_TRACE_DIR"], name), "w")  # noqa: SIM115
        _files.append(out)
        conn.pgconn.trace(out.fileno())
        conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        return conn

    psycopg.Connection.connect = classmethod(_traced)
    psycopg.connect = psycopg.Connection.connect
