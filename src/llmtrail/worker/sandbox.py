"""Running a code evaluator's Python where it can harm nothing: `run_code`.

The code runs in a fresh interpreter (`python -I -S`: the standard library only), started
with subprocess and never forked from the caller, which may be a threaded server. It gets
the evaluation's inputs as JSON on stdin and gives its result as JSON on a file of its own,
apart from its output. There, set up by `sandbox_child`:

- no network: a network namespace of its own, with a loopback that is down;
- no other processes: a PID namespace of its own, with its own /proc;
- no data: every mount read-only; empty tmpfs over llmtrail's data directory, the SQLite
  database's directory, the user's home, /run (where the PostgreSQL socket is) and any
  `hidden` path; a tmpfs of its own at /tmp as its working directory; an empty environment;
- no privileges: `nobody` when llmtrail runs as root, else llmtrail's user in a user
  namespace, with no capabilities either way;
- limits: CPU seconds, address space, no new processes or threads, open files, file size.

Whatever the code does, `run_code` returns a result; only failing to start Python raises.
Where the kernel allows no isolation (no user namespaces for an unprivileged user, say), the
result is an error naming why: code never runs unsandboxed.
"""

from __future__ import annotations

import functools
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from llmtrail.config import load_settings

OUTPUT_BYTES = 64 * 1024  # of stdout and stderr, kept
RESULT_BYTES = 1024 * 1024  # the JSON of main's return value
FILE_BYTES = 8 * 1024 * 1024  # any file the code writes (RLIMIT_FSIZE), its raw output included
TMP_BYTES = 16 * 1024 * 1024  # its /tmp
STARTUP_SECONDS = 1.0  # wall time allowed beyond the limit, to start and isolate the interpreter
# Where other processes keep sockets and state: PostgreSQL's socket is in /run/postgresql.
SYSTEM_HIDDEN = (Path("/run"), Path("/var/run"))
_CHILD = Path(__file__).with_name("sandbox_child.py")


@dataclass(frozen=True)
class SandboxResult:
    """What main returned (a JSON value), or why there is none; how long the run took, from
    start to end; and the start of what the code printed (its traceback too, if it raised)."""

    value: Any
    error: str | None
    seconds: float
    output: str = ""


def default_hidden() -> list[Path]:
    """The paths hidden from every run: the data directory and the SQLite database's directory
    of the settings in the environment, the user's home, and SYSTEM_HIDDEN."""
    settings = load_settings()
    paths = [settings.data_dir, Path.home(), *SYSTEM_HIDDEN]
    database = make_url(settings.database_url).database if settings.is_sqlite else None
    if database and database != ":memory:":
        paths.append(Path(database).resolve().parent)
    return paths


def run_code(
    source: str,
    eval_inputs: dict[str, Any],
    *,
    timeout: float,
    memory_mb: int,
    hidden: Sequence[Path] = (),
    entry: str | None = None,
    environ: dict[str, str] | None = None,
) -> SandboxResult:
    """Run `source`'s `main(eval_inputs)` in the sandbox, within `timeout` seconds and
    `memory_mb` of address space, with `hidden` hidden besides `default_hidden()`.

    `entry` runs that function instead, with the inputs as keyword arguments (a Tool's);
    `environ` is the code's whole environment (else it has none)."""
    request = {
        "source": source,
        "inputs": eval_inputs,
        "entry": entry,
        "environ": environ or {},
        "hidden": sorted({str(p.resolve()) for p in [*default_hidden(), *hidden]}),
        "cpu_seconds": max(1, math.ceil(timeout)),
        "memory_mb": memory_mb,
        "file_bytes": FILE_BYTES,
        "tmp_bytes": TMP_BYTES,
        "output_bytes": OUTPUT_BYTES,
        "result_bytes": RESULT_BYTES,
    }
    started = time.monotonic()
    with tempfile.TemporaryFile() as result, tempfile.TemporaryFile() as output:
        command = [sys.executable, "-I", "-S", "-X", "utf8", str(_CHILD), str(result.fileno())]
        with subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=output,
            stderr=subprocess.STDOUT,
            pass_fds=(result.fileno(),),
            env={},
            cwd="/",
            start_new_session=True,  # its own process group, to kill all of it
        ) as process:
            try:
                process.communicate(json.dumps(request).encode(), timeout + STARTUP_SECONDS)
                timed_out = False
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                timed_out = True
        seconds = time.monotonic() - started
        result.seek(0)
        raw = result.read(FILE_BYTES)
        output.seek(0)
        printed = output.read(OUTPUT_BYTES).decode("utf-8", "replace")
    if timed_out:
        error = f"ran out of its {timeout:g} s time limit"
    elif raw:
        try:
            answer = json.loads(raw)
            error = answer.get("error")
            return SandboxResult(
                answer.get("value"), None if error is None else str(error), seconds, printed
            )
        except (ValueError, AttributeError):  # the code wrote to the result's file itself
            error = "left a result that is not JSON"
    else:
        error = _ended(process.returncode, seconds, timeout)
    return SandboxResult(None, error, seconds, printed)


def _ended(returncode: int, seconds: float, timeout: float) -> str:
    """Why the code left no result, from how its process ended (a signal: 128 + its number)."""
    killed = -returncode if returncode < 0 else returncode - 128 if returncode > 128 else 0
    # SIGXCPU at the CPU limit, and SIGKILL a second later for code that ignores it.
    if killed == signal.SIGXCPU or (killed == signal.SIGKILL and seconds >= timeout):
        return f"ran out of its {timeout:g} s time limit"
    if killed:
        try:
            return f"was killed by {signal.Signals(killed).name}"
        except ValueError:
            return f"was killed by signal {killed}"
    return f"exited with code {returncode} before main returned"


@functools.cache
def isolation_available() -> str | None:
    """None when code runs fully isolated here, else why it cannot (the kernel's settings do
    not change while llmtrail runs, so this is asked once)."""
    try:
        result = run_code("def main(eval_inputs):\n    return 1\n", {}, timeout=10, memory_mb=64)
    except OSError as e:
        return f"cannot start {sys.executable}: {e}"
    return result.error
