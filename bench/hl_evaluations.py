"""Humanloop Evaluations, measured: `evals.run` of a local callable over a Dataset with a
local (external) Evaluator and a server-side rule Evaluator, end to end, and what reading
the stats costs once the Run holds its Logs.

`python -m bench.hl_evaluations [--datapoints N] [--backend sqlite|postgresql]`
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import time
import types

import httpx
from humanloop import Humanloop
from humanloop.evals import run as evals_run

from bench import server


def exact(log, datapoint):  # type: ignore[no-untyped-def]
    return log["output"] == datapoint["target"]["output"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datapoints", type=int, default=500)
    parser.add_argument("--workers", type=int, default=8, help="evals.run's threads")
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "LLMTRAIL_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    srv, pg_name = server.start(args.backend, args.pg_url)
    try:
        key = srv.create_key("bench-evaluations")
        hl = Humanloop(api_key=key, base_url=f"{srv.base_url}/v5")
        with httpx.Client(base_url=srv.base_url, headers={"Authorization": f"Bearer {key}"}) as kw:
            rule = kw.post(
                "/api/evaluators/",
                json={
                    "name": "has-x",
                    "type": "rule",
                    "score_value_type": "boolean",
                    "rule_config": {"rule": "contains", "value": "x"},
                },
            ).json()
        rule_path = hl.evaluators.get(id=rule["id"]).path
        hl.prompts.upsert(path="bench/answer", model="gpt-4o")
        points = [
            {"inputs": {"n": str(i)}, "target": {"output": f"x{i}"}} for i in range(args.datapoints)
        ]
        # Poll the stats every 0.2 s, not the SDK's 5 s: the figure is the server's.
        evals_run.time = types.SimpleNamespace(sleep=lambda _: time.sleep(0.2), time=time.time)
        started = time.perf_counter()
        hl.evaluations.run(
            name="bench",
            file={"path": "bench/answer", "type": "prompt", "callable": lambda n: f"x{n}"},
            dataset={"path": "bench/points", "datapoints": points},
            evaluators=[
                {
                    "path": "bench/exact",
                    "callable": exact,
                    "args_type": "target_required",
                    "return_type": "boolean",
                },
                {"path": rule_path},
            ],
            workers=args.workers,
        )
        seconds = time.perf_counter() - started
        signal.signal(signal.SIGINT, signal.default_int_handler)
        file_id = hl.files.retrieve_by_path(path="bench/answer").id
        [evaluation] = list(hl.evaluations.list(file_id=file_id))
        reads = []
        for _ in range(20):
            t = time.perf_counter()
            hl.evaluations.get_stats(id=evaluation.id)
            reads.append((time.perf_counter() - t) * 1000)
        print(
            f"{args.backend}: evals.run over {args.datapoints} datapoints, 2 evaluators, "
            f"{args.workers} workers: {seconds:.1f} s"
            f" ({args.datapoints / seconds:.0f} datapoints/s); "
            f"get_stats median {statistics.median(reads):.1f} ms"
        )
    finally:
        srv.stop()
        if pg_name:
            server.drop_database(args.pg_url, pg_name)


if __name__ == "__main__":
    main()
