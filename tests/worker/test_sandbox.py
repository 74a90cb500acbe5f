"""The sandbox for code evaluators: what main returns comes back, and whatever else the code
does (fail, loop, allocate, connect, read the data, fork, print) ends as a result, without
reaching the network, the data or other processes. Where the machine could stand in the
way, a check shows the same access working outside the sandbox, so that it fails for the
sandbox's sake and not the test's."""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from llmtrail.core.scoring import EvalInputs
from llmtrail.worker.sandbox import OUTPUT_BYTES, SandboxResult, isolation_available, run_code

pytestmark = pytest.mark.integration  # real subprocesses, and PostgreSQL's port

POSTGRES_SOCKET = "/run/postgresql/.s.PGSQL.5432"


def run(source: str, inputs: dict | None = None, **limits: Any) -> SandboxResult:
    limits = {"timeout": 5.0, "memory_mb": 256, **limits}
    return run_code(textwrap.dedent(source), inputs or {}, **limits)


def test_isolation_works_here() -> None:
    """Not a skip: CI is Debian 12 as root, where every run must be isolated; a machine that
    cannot isolate fails here with the reason, as every other test of this file does."""
    assert isolation_available() is None


def test_main_gets_the_inputs_and_its_value_comes_back() -> None:
    inputs = EvalInputs(
        input="capital of France?", output="Paris", ideal_output="Paris", metrics={"latency": 1.5}
    )
    result = run(
        """
        def main(eval_inputs):
            print("comparing")
            return {
                "match": eval_inputs["output"] == eval_inputs["ideal_output"],
                "legacy": eval_inputs["llm_output"],
                "latency": eval_inputs["metrics"]["latency"],
            }
        """,
        inputs.as_dict(),
    )
    assert result == SandboxResult(
        {"match": True, "legacy": "Paris", "latency": 1.5}, None, result.seconds, "comparing\n"
    )
    assert 0 < result.seconds < 5


@pytest.mark.parametrize(
    ("source", "error"),
    [
        (
            "def main(eval_inputs):\n    return 1 / 0\n",
            "main raised ZeroDivisionError: division by zero",
        ),
        ("x = 1\n\ndef main(eval_inputs)\n    return 1\n", "SyntaxError: expected ':' (line 3)"),
        ("def evaluate(eval_inputs):\n    return 1\n", "source does not define main(eval_inputs)"),
        ("import numpy\n", "source raised ModuleNotFoundError: No module named 'numpy'"),
        (
            "def main(eval_inputs):\n    return {1, 2}\n",
            "main returned a value that is not JSON (Object of type set is not JSON serializable)",
        ),
        (
            "def main(eval_inputs):\n    return float('nan')\n",
            "main returned a value that is not JSON (Out of range float values are not JSON "
            "compliant)",
        ),
        ("import sys\ndef main(eval_inputs):\n    sys.exit(3)\n", "main raised SystemExit: 3"),
        (
            "import os\ndef main(eval_inputs):\n    os._exit(3)\n",
            "exited with code 3 before main returned",
        ),
        (
            "import os, signal\ndef main(eval_inputs):\n    os.kill(os.getpid(), signal.SIGKILL)\n",
            "was killed by SIGKILL",
        ),
        (
            "import ctypes\ndef main(eval_inputs):\n    ctypes.string_at(0)\n",
            "was killed by SIGSEGV",
        ),
    ],
    ids=[
        "raises",
        "syntax",
        "no-main",
        "import",
        "set",
        "nan",
        "sys.exit",
        "os._exit",
        "kill",
        "segfault",
    ],
)
def test_a_failing_evaluator_is_an_error_result_saying_why(source: str, error: str) -> None:
    result = run(source)
    assert (result.value, result.error) == (None, error)


def test_the_traceback_of_a_raising_main_is_in_its_output() -> None:
    result = run("def main(eval_inputs):\n    return 1 / 0\n")
    assert 'File "<evaluator>", line 2, in main\n    return 1 / 0' in result.output


@pytest.mark.parametrize(
    "body",
    [
        "while True:\n    pass",
        "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True:\n    pass",
        "import time\ntime.sleep(60)",
    ],
    ids=["spins", "ignores SIGXCPU", "sleeps"],
)
def test_code_that_never_returns_ends_at_the_time_limit(body: str) -> None:
    started = time.monotonic()
    result = run(f"def main(eval_inputs):\n{textwrap.indent(body, '    ')}\n", timeout=1)
    assert result.error == "ran out of its 1 s time limit"
    assert time.monotonic() - started < 1 + 2


@pytest.mark.parametrize(
    "body",
    [
        "return len(bytearray(10 * 2**30))",
        "chunks = []\nwhile True:\n    chunks.append(bytearray(2**20))",
    ],
    ids=["10 GB at once", "a growing list"],
)
def test_code_that_allocates_too_much_ends_at_the_memory_limit(body: str) -> None:
    result = run(f"def main(eval_inputs):\n{textwrap.indent(body, '    ')}\n", memory_mb=256)
    assert (result.value, result.error) == (None, "exceeded its 256 MB memory limit")


def test_there_is_no_network() -> None:
    socket.create_connection(("127.0.0.1", 5432), timeout=5).close()
    with socket.socket(socket.AF_UNIX) as unix:
        unix.connect(POSTGRES_SOCKET)
    result = run(
        f"""
        import socket

        def main(eval_inputs):
            errors = []
            for family, address in [
                (socket.AF_INET, ("127.0.0.1", 5432)),
                (socket.AF_UNIX, {POSTGRES_SOCKET!r}),
            ]:
                try:
                    socket.socket(family).connect(address)
                    errors.append("connected")
                except OSError as e:
                    errors.append(e.errno)
            return errors
        """
    )
    assert result.value == [errno.ENETUNREACH, errno.ENOENT]


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A data directory anybody may read, outside the places hidden anyway (/tmp, the home),
    so that only hiding can keep the code from it."""
    path = Path(tempfile.mkdtemp(dir="/var/tmp"))
    path.chmod(0o755)
    (path / "llmtrail.db").write_text("secret")
    (path / "llmtrail.db").chmod(0o644)
    yield path
    shutil.rmtree(path)


READ_DATA = """
import ctypes

def main(eval_inputs):
    path = eval_inputs["path"]
    ctypes.CDLL(None).umount2(path.rsplit("/", 1)[0].encode(), 2)  # not allowed: no effect
    try:
        return open(path).read()
    except OSError as e:
        return type(e).__name__
"""


@pytest.mark.parametrize("how", ["hidden", "LLMTRAIL_DATA_DIR", "LLMTRAIL_DATABASE_URL"])
def test_the_data_is_hidden(data_dir: Path, how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    database = data_dir / "llmtrail.db"
    inputs = {"path": str(database)}
    assert database.read_text() == "secret"
    assert run(READ_DATA, inputs).value == "secret"  # what the code's user could read

    if how == "LLMTRAIL_DATA_DIR":
        monkeypatch.setenv(how, str(data_dir))
    elif how == "LLMTRAIL_DATABASE_URL":
        monkeypatch.setenv(how, f"sqlite:///{database}")
    result = run(READ_DATA, inputs, hidden=[data_dir] if how == "hidden" else ())
    assert result.value == "FileNotFoundError"


def test_the_code_gets_an_empty_environment_and_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMTRAIL_DATABASE_URL", "postgresql://llmtrail:s3cret@127.0.0.1/llmtrail")
    monkeypatch.setenv("LLMTRAIL_LLM_API_KEY", "sk-s3cret")
    result = run(
        """
        import os

        def main(eval_inputs):
            return [dict(os.environ), os.getcwd(), os.listdir(".")]
        """
    )
    environment, cwd, listing = result.value
    assert not [name for name in environment if name.startswith("LLMTRAIL")]
    assert "s3cret" not in json.dumps(environment)
    assert (cwd, listing) == ("/tmp", [])


def test_the_code_writes_only_to_its_own_small_tmp() -> None:
    result = run(
        """
        import os

        def main(eval_inputs):
            outcomes = []
            writes = [("/tmp/scratch", 1000), ("/var/tmp/planted", 1), ("/tmp/big", 32 << 20)]
            for path, size in writes:
                try:
                    with open(path, "wb") as f:
                        f.write(b"x" * size)
                    outcomes.append("written")
                except OSError as e:
                    outcomes.append(e.errno)
            return outcomes
        """
    )
    assert result.value == ["written", errno.EROFS, errno.EFBIG]


def test_other_processes_are_out_of_sight_and_reach() -> None:
    result = run(
        """
        import os, signal

        def main(eval_inputs):
            try:
                os.kill(eval_inputs["caller"], signal.SIGKILL)
                killed = "sent"
            except ProcessLookupError:
                killed = "no such process"
            return [sorted(p for p in os.listdir("/proc") if p.isdigit()), killed]
        """,
        {"caller": os.getpid()},
    )
    assert result.value == [["1", "2"], "no such process"]


def test_a_fork_bomb_gets_no_process() -> None:
    result = run(
        """
        import os

        def main(eval_inputs):
            forks = 0
            try:
                while True:
                    os.fork()
                    forks += 1
            except OSError as e:
                return [forks, e.errno]
        """
    )
    assert result.value == [0, errno.EAGAIN]


@pytest.mark.parametrize(
    ("body", "value", "error", "end"),
    [
        ("print('x' * 2**20)", 1, None, "x\n[output cut]\n"),
        ("os.write(1, b'x' * 2**20)", None, "main raised OSError: [Errno 27] File too large", "x"),
    ],
    ids=["print", "os.write"],
)
def test_printing_100_mb_is_cut_short(
    body: str, value: int | None, error: str | None, end: str
) -> None:
    started = time.monotonic()
    loop = f"    for _ in range(100):\n        {body}\n"
    result = run(f"import os\ndef main(eval_inputs):\n{loop}    return 1\n")
    assert (result.value, result.error) == (value, error)
    assert len(result.output) <= OUTPUT_BYTES
    assert result.output.startswith("xxxx") and result.output.endswith(end)
    assert time.monotonic() - started < 3


def test_concurrent_runs_each_return_their_own_value() -> None:
    source = "def main(eval_inputs):\n    return eval_inputs['n'] ** 2\n"
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda n: run(source, {"n": n}), range(8)))
    assert [(r.value, r.error) for r in results] == [(n**2, None) for n in range(8)]


CALLER = """
import json, sys
from llmtrail.worker.sandbox import run_code

result = run_code(sys.argv[1], {}, timeout=5, memory_mb=256)
print(json.dumps([result.value, result.error]))
"""


def run_elsewhere(wrapper: list[str], source: str) -> list:
    """run_code called by a process started under `wrapper` (util-linux `unshare`)."""
    command = [*wrapper, sys.executable, "-c", CALLER, textwrap.dedent(source)]
    return json.loads(subprocess.run(command, capture_output=True, check=True).stdout)


def test_an_unprivileged_caller_gets_the_same_isolation() -> None:
    """A caller that is not root (uid 1000 in a user namespace of its own) isolates the code
    with a user namespace, where it keeps its uid and no capabilities."""
    value, error = run_elsewhere(
        ["unshare", "--user", "--map-user=1000", "--map-group=1000"],
        """
        import os, socket

        def main(eval_inputs):
            try:
                socket.create_connection(("127.0.0.1", 5432))
            except OSError as e:
                network = e.errno
            status = open("/proc/self/status").read()
            capabilities = status.split("CapEff:")[1].split()[0]
            return [os.getuid(), capabilities, network, os.listdir("/run")]
        """,
    )
    assert (value, error) == ([1000, "0000000000000000", errno.ENETUNREACH, []], None)


def test_where_isolation_is_impossible_the_code_does_not_run() -> None:
    """Without user namespaces to spare, an unprivileged caller is refused, saying why."""
    no_more_namespaces = (
        "echo 1 > /proc/sys/user/max_user_namespaces && "
        'exec unshare --user --map-user=1000 --map-group=1000 "$@"'
    )
    value, error = run_elsewhere(
        ["unshare", "--user", "--map-root-user", "sh", "-c", no_more_namespaces, "sh"],
        "def main(eval_inputs):\n    return 'ran'\n",
    )
    assert value is None
    assert error.startswith("cannot isolate the code here: unshare with a user namespace")
