"""Filling a dataset from logs in the background: the `dataset_add` job kind.

A job copies the next `CHUNK` matching logs (by key order) in its commit step, with one
INSERT ... SELECT, records the progress on the dataset, and queues the job for the chunk
after it in the same transaction: each chunk commits once, a crashed worker's chunk is
redone from where the last commit left it, and `running_progress` moves as chunks land.
Sampling keeps a log when a hash of its key and the request's seed falls under the share,
so a chunk redone keeps the same logs.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, and_, func, select

from llmtrail.core import jobs
from llmtrail.core.datasets import COMPLETED, FAILED, LOADING, PENDING, READY, RUNNING, Window
from llmtrail.core.filters import parse_filters
from llmtrail.core.ids import new_id, utcnow
from llmtrail.core.keys import Principal
from llmtrail.store import datasets as store
from llmtrail.store.logs import matching
from llmtrail.store.tables import logs

log = logging.getLogger(__name__)

ADD = "dataset_add"
CHUNK = 5000
_PRIME = 10007  # buckets of the sampling hash
_MULTIPLIER = 2654435761  # Knuth's multiplicative hash


def queue_add(
    conn: Connection, who: Principal, dataset_id: str, window: Window, now: datetime
) -> None:
    """Queue the filling of a dataset in the caller's transaction, and show it pending."""
    payload = {
        "dataset_id": dataset_id,
        "filters": window.filters,
        "start_time": window.start_time.isoformat(),
        "end_time": window.end_time.isoformat(),
        "sampling": window.sampling,
        "seed": random.randrange(_PRIME),
        "after": 0,
        "total": None,
        "done": 0,
    }
    store.update_dataset(
        conn,
        who.org_id,
        dataset_id,
        status=LOADING,
        running_status=PENDING,
        running_progress=0.0,
        running_at=now,
        updated_at=now,
    )
    _enqueue(conn, who.org_id, payload, now, request=new_id())


def _enqueue(
    conn: Connection, org_id: int, payload: dict[str, Any], now: datetime, request: str
) -> None:
    job = jobs.NewJob(
        org_id=org_id,
        kind=ADD,
        payload={**payload, "request": request},
        origin=f"dataset:{payload['dataset_id']}",
        dedupe_key=f"{ADD}:{request}:{payload['after']}",
    )
    jobs.enqueue(conn, [job], now)


def _wanted(org_id: int, payload: dict[str, Any]) -> ColumnElement[bool]:
    """The logs the request asks for: window, filters, sample."""
    where = matching(
        org_id,
        parse_filters(payload["filters"]),
        datetime.fromisoformat(payload["start_time"]),
        datetime.fromisoformat(payload["end_time"]),
    )
    share = float(payload["sampling"])
    if share < 100:
        bucket = (logs.c.id * _MULTIPLIER + payload["seed"]) % _PRIME
        where = and_(where, bucket < round(share * _PRIME / 100))
    return where


def _commit(conn: Connection, job: Row, _outcome: Any) -> None:
    """The next chunk; on the job's last attempt, a failure marks the dataset failed
    instead of leaving it loading for good."""
    try:
        with conn.begin_nested():
            _fill_chunk(conn, job)
    except Exception:
        if job.attempts < job.max_attempts:
            raise  # retried with backoff
        log.exception("filling dataset %s failed for good", job.payload["dataset_id"])
        store.update_dataset(
            conn,
            job.org_id,
            job.payload["dataset_id"],
            status=FAILED,
            running_status=FAILED,
            updated_at=utcnow(),
        )


def _fill_chunk(conn: Connection, job: Row) -> None:
    payload = dict(job.payload)
    dataset = store.get(conn, job.org_id, payload["dataset_id"])
    if dataset is None:  # deleted meanwhile: nothing left to fill
        return
    wanted = _wanted(job.org_id, payload)
    if payload["total"] is None:
        payload["total"] = conn.scalar(select(func.count()).select_from(logs).where(wanted)) or 0
    chunk = (
        select(logs.c.id)
        .where(wanted, logs.c.id > payload["after"])
        .order_by(logs.c.id)
        .limit(CHUNK)
        .subquery()
    )
    scanned, upto = conn.execute(select(func.count(), func.max(chunk.c.id))).one()
    now = utcnow()
    if scanned:
        in_chunk = and_(wanted, logs.c.id > payload["after"], logs.c.id <= upto)
        latest = store.latest(conn, dataset.id)
        store.copy_logs(conn, job.org_id, dataset.id, in_chunk, latest + 1, now)
        payload["done"] += scanned
        payload["after"] = upto
    total = max(payload["total"], payload["done"])
    if scanned == CHUNK:
        progress = round(100 * payload["done"] / total, 2) if total else 0.0
        store.update_dataset(
            conn,
            job.org_id,
            dataset.id,
            running_status=RUNNING,
            running_progress=min(progress, 99.99),
            updated_at=now,
        )
        _enqueue(conn, job.org_id, payload, now, request=payload.pop("request"))
        return
    store.update_dataset(
        conn,
        job.org_id,
        dataset.id,
        status=READY,
        running_status=COMPLETED,
        running_progress=100.0,
        updated_at=now,
    )


jobs.register(ADD, commit=_commit)
