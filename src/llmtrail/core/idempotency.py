"""Idempotent retries: a write sent again with the same `Idempotency-Key` is answered as the
first time, and writes nothing again.

A client whose request timed out cannot tell whether it was written; it sends it again with
the same key. The first request's answer is stored in the transaction of its write (`Claim.
receipt`, run as the submission's `work`), so either both are committed or neither is: a
retry finds the answer exactly when the write happened. The same key with another request
(method, path or body) is refused (409, naming the header), as a client bug; two twins sent
at once race on the key's primary key, and the loser is answered with the winner's answer.
Keys are per organization and expire after `LLMTRAIL_IDEMPOTENCY_SECONDS`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import Engine

from llmtrail.core.ids import utcnow
from llmtrail.errors import Conflict, Invalid
from llmtrail.store import idempotency as store
from llmtrail.store.writer import WriteTx

HEADER = "Idempotency-Key"
MAX_KEY_CHARS = 255


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes  # JSON


@dataclass(frozen=True)
class Claim:
    """A key a request holds, and what identifies the request (its fingerprint)."""

    org_id: int
    key: str
    fingerprint: str
    lifetime_seconds: float

    @classmethod
    def of(cls, org_id: int, key: str, request: bytes, lifetime_seconds: float) -> Claim:
        """`request` holds what makes two requests the same: method, path and body."""
        if not 1 <= len(key) <= MAX_KEY_CHARS or not key.isprintable():
            raise Invalid.at(HEADER, f"must be 1 to {MAX_KEY_CHARS} printable characters")
        fingerprint = hashlib.sha256(request).hexdigest()
        return cls(org_id, key, fingerprint, lifetime_seconds)

    def receipt(self, status: int, body: Any) -> Receipt:
        """The work that stores the answer, in the write's transaction."""
        now = utcnow()
        return Receipt(
            {
                "org_id": self.org_id,
                "key": self.key,
                "fingerprint": self.fingerprint,
                "status": status,
                "body": orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS).decode(),
                "created_at": now,
                "expires_at": now + timedelta(seconds=self.lifetime_seconds),
            }
        )

    def stored(self, engine: Engine) -> Answer | None:
        """The answer a request with this key got, if it is a twin of this one; refused
        (Conflict) when the key was used for another request."""
        with engine.connect() as conn:
            found = store.find(conn, self.org_id, self.key, utcnow())
        if found is None:
            return None
        if found.fingerprint != self.fingerprint:
            raise Conflict(
                f"{HEADER} '{self.key}' was sent with another request (method, path or "
                "body): a new request takes a new key"
            )
        return Answer(found.status, found.body.encode())


@dataclass(frozen=True)
class Receipt:
    """Stores an answer: a writer `work` (plain data, it crosses to the writer process)."""

    row: dict[str, Any]

    def __call__(self, tx: WriteTx) -> None:
        store.remember(tx.conn, self.row)
