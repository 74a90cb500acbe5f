"""The driver's statements are compiled once: one that cannot be is refused by name."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from llmtrail.store.driver import among, fetch
from llmtrail.store.tables import evaluation_runs


def test_an_expanded_in_is_refused_by_name_and_among_runs(engine: Engine) -> None:
    expanded = select(evaluation_runs.c.id).where(evaluation_runs.c.status.in_(["pending"]))
    with engine.connect() as conn:
        with pytest.raises(TypeError, match=r"expanded IN \(status_1\).*among\(\)"):
            fetch(conn, expanded, {})
        one_text = select(evaluation_runs.c.id).where(
            among(evaluation_runs.c.status, "states", engine.dialect.name)
        )
        assert fetch(conn, one_text, {"states": ["no-such-state"]}) == []
