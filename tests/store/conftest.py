"""Helpers of the storage tests: log rows as the write path builds them, in an org of their own."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine, func, select

from llmtrail.core.ids import utcnow
from llmtrail.core.keys import authenticate, create_key
from llmtrail.store.tables import logs


def row(org_id: int, unique_id: str | None = None) -> dict:
    """A minimal `logs` row; every row has the same keys, as the write path's rows do."""
    now = utcnow()
    return {
        "org_id": org_id,
        "unique_id": unique_id or uuid.uuid4().hex,
        "environment": "prod",
        "log_type": "chat",
        "timestamp": now,
        "created_at": now,
        "status": "success",
        "status_code": 200,
        "stream": False,
        "blurred": False,
        "trace_unique_id": None,
        "span_parent_id": None,
    }


@pytest.fixture
def org_id(engine: Engine) -> int:
    _, key = create_key(engine, org=f"writer-{uuid.uuid4().hex[:8]}")
    return authenticate(engine, key).org_id


def count(engine: Engine, org_id: int) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).where(logs.c.org_id == org_id))
