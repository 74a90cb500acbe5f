"""What a long-running llmtrail process does once it has started: its startup objects are
moved out of the garbage collector's sight.

A server holds some 220,000 objects once its routes, models and schemas are built (a writer
or a job worker some 90,000), nearly all of them for its whole life; every full collection
walked them all (134 ms in the server, 48 ms in the writer, measured), stalling whatever the
process was doing (a 180 ms one in the server, seen right after its first requests, was
among the slowest requests' waits). Frozen after a collection
of startup's own garbage, they are never scanned again: a full collection walks only what
came since.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Collect what starting up left behind, then freeze the rest (`gc.freeze`)."""
    gc.collect()
    gc.freeze()
