"""Which errors say PostgreSQL is away (answered 503, retried by the writer only before
COMMIT) and which are the statement's own (answered as before)."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from psycopg.errors import AdminShutdown, QueryCanceled
from sqlalchemy.exc import IntegrityError, OperationalError, PendingRollbackError

from llmtrail.store.database import lost_database


def _after_a_lost_connection() -> Exception:
    """What a statement raises on a connection a caught error had already lost."""
    try:
        try:
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        except psycopg.OperationalError:
            # As SQLAlchemy raises it: the lost connection only as its context.
            raise PendingRollbackError("Can't reconnect until the transaction is rolled back")  # noqa: B904
    except PendingRollbackError as exc:
        return exc


@pytest.mark.parametrize(
    "error",
    [
        psycopg.OperationalError("connection refused"),  # the driver's own (store.driver)
        AdminShutdown("terminating connection due to administrator command"),
        OperationalError("SELECT 1", None, psycopg.OperationalError("gone")),  # SQLAlchemy's
        _after_a_lost_connection(),
    ],
)
def test_a_lost_connection_is_recognised(error: Exception) -> None:
    assert lost_database(error)


@pytest.mark.parametrize(
    "error",
    [
        QueryCanceled("canceling statement due to statement timeout"),  # the server answered
        OperationalError("SELECT 1", None, QueryCanceled("timeout")),
        OperationalError("BEGIN", None, sqlite3.OperationalError("database is locked")),
        IntegrityError("INSERT", None, psycopg.IntegrityError("duplicate key")),
        ValueError("a fault of ours"),
    ],
)
def test_other_errors_are_not_taken_for_a_lost_connection(error: Exception) -> None:
    assert not lost_database(error)
