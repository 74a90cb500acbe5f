"""What evaluators, conditions and automations share: an organization names each by id or by
slug, reads it (404 when it is missing or another organization's) and pages through them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Row, Table

from llmtrail.core.keys import Principal
from llmtrail.errors import NotFound
from llmtrail.store import evaluation as store


@dataclass(frozen=True)
class Named:
    table: Table
    noun: str  # as the 404 says it: "Evaluator not found"

    def find(self, conn: Connection, principal: Principal, key: str) -> Row:
        row = store.by_id_or_slug(conn, self.table, principal.org_id, key)
        if row is None:
            raise NotFound(f"{self.noun} not found")
        return row

    def get(self, engine: Engine, principal: Principal, key: str) -> Row:
        with engine.connect() as conn:
            return self.find(conn, principal, key)

    def page(
        self,
        engine: Engine,
        principal: Principal,
        page: int,
        page_size: int,
        *,
        search: str | None = None,
        **equal: Any,
    ) -> tuple[int, list[Row]]:
        """(total, one page newest first); `equal` columns must match (None: any value)."""
        with engine.connect() as conn:
            return store.page_of(
                conn,
                self.table,
                principal.org_id,
                (page - 1) * page_size,
                page_size,
                search=search,
                equal={k: v for k, v in equal.items() if v is not None},
            )
