"""Statements and round trips per commit of the writer process, from its PostgreSQL protocol
trace (`bench/trace_site`, turned on by `python -m bench.profile --round-trips`).

A transaction runs from the first message the client sends while idle to the
ReadyForQuery that says it is idle again. A round trip is a turn from sending to reading
(the client waits for the server there); a statement is a Bind (one per parameter set of
an executemany) or a simple Query, BEGIN and COMMIT included.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

SITE = Path(__file__).parent / "trace_site"
_QUOTED = re.compile(r'"((?:[^"]|"")*)"')
_MESSAGE = re.compile(r"^[FB]\t\d+\t")
_NUMBERED = re.compile(r"(sa_savepoint_|statement_timeout = )\d+")  # one statement, many texts


def _messages(trace: Path) -> list[str]:
    """The trace's messages, one a line (a statement's text may hold line breaks)."""
    messages: list[str] = []
    for line in trace.read_text(errors="replace").splitlines():
        if _MESSAGE.match(line) or not messages:
            messages.append(line)
        else:
            messages[-1] += " " + line
    return messages


def environment(trace_dir: Path) -> dict[str, str]:
    """What the server's environment needs for its writer process to trace to `trace_dir`."""
    path = os.pathsep.join(p for p in (str(SITE), os.environ.get("PYTHONPATH")) if p)
    return {"BENCH_TRACE_DIR": str(trace_dir), "PYTHONPATH": path}


@dataclass
class Trips:
    commits: int = 0
    round_trips: int = 0
    statements: Counter[str] = field(default_factory=Counter)

    def read(self, trace: Path) -> None:
        """Add the transactions of one connection's trace."""
        named: dict[str, str] = {}
        unnamed = ""
        sending = in_tx = False
        for line in _messages(trace):
            side, _, kind, *rest = [*line.split("\t"), ""]
            detail = rest[0] if rest else ""
            if side == "F":
                if not in_tx and kind != "Terminate":
                    in_tx = True
                if not sending:
                    self.round_trips += in_tx
                    sending = True
                quoted = _QUOTED.findall(detail)
                if kind == "Parse":
                    name, sql = quoted[0], quoted[1]
                    named[name] = sql
                    unnamed = sql if name == "" else unnamed
                elif kind == "Bind":
                    sql = named.get(quoted[1], unnamed) if quoted[1] else unnamed
                    self.statements[_NUMBERED.sub(r"\1N", sql)] += 1
                elif kind == "Query":
                    self.statements[_NUMBERED.sub(r"\1N", quoted[0])] += 1
            elif side == "B":
                sending = False
                if kind == "ReadyForQuery" and detail.strip() == "I" and in_tx:
                    in_tx = False
                    self.commits += 1

    def report(self, top: int = 20) -> str:
        n = self.commits or 1
        lines = [
            f"{self.commits} transactions: {self.round_trips / n:.1f} round trips and "
            f"{sum(self.statements.values()) / n:.1f} statements per transaction",
        ]
        for sql, count in self.statements.most_common(top):
            lines.append(f"{count / n:6.2f}  {' '.join(sql.split())[:100]}")
        return "\n".join(lines)


def count(trace_dir: Path) -> Trips:
    trips = Trips()
    for trace in sorted(trace_dir.glob("trace-*.txt")):
        trips.read(trace)
    return trips
