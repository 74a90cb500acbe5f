"""Tokens in process: their form, and every way a token is refused, before any server."""

from __future__ import annotations

import time
from collections.abc import Callable

import jwt
import pytest

from llmtrail.core.tokens import Signer, is_jwt
from llmtrail.errors import Unauthorized

SIGNER = Signer("k" * 40, access_seconds=60, refresh_seconds=600)


@pytest.mark.parametrize(
    ("credential", "jwt_form"),
    [
        (SIGNER.issue(1, 2, "member", "access"), True),
        ("eyJhbGciOiJub25lIn0.eyJhIjoxfQ.", True),  # alg none: no signature
        ("lt_abc-DEF_123", False),
        ("lt_a.b.c", False),  # a key, refused as one
        ("a.b", False),
        ("a.b.c.d", False),
        ("a b.c.d", False),
    ],
)
def test_a_jwt_is_told_from_a_key_by_its_form(credential: str, jwt_form: bool) -> None:
    assert is_jwt(credential) is jwt_form


def test_claims_of_a_good_token() -> None:
    claims = SIGNER.verify(SIGNER.issue(1, 2, "viewer", "refresh"), "refresh")
    assert (claims.user_id, claims.org_id, claims.role) == (1, 2, "viewer")
    assert claims.expires_at - time.time() == pytest.approx(600, abs=2)


# Made when the test runs, not when it is collected: a suite can outlast a token.
@pytest.mark.parametrize(
    ("token", "detail"),
    [
        (lambda: SIGNER.issue(1, 2, "member", "refresh"), "A refresh token cannot authenticate"),
        (lambda: Signer("x" * 40, 60, 600).issue(1, 2, "member", "access"), "signature is invalid"),
        (lambda: Signer("k" * 40, -1, 600).issue(1, 2, "member", "access"), "expired"),
        (lambda: jwt.encode({"user_id": 1}, "k" * 40, "HS256"), "has no"),
        (lambda: jwt.encode({"user_id": 1}, None, "none"), "only HS256"),
        (lambda: jwt.encode({"user_id": 1}, "k" * 64, "HS512"), "only HS256"),
        (lambda: "a.b.c", "malformed"),
    ],
)
def test_refused_tokens_say_why(token: Callable[[], str], detail: str) -> None:
    with pytest.raises(Unauthorized, match=detail):
        SIGNER.verify(token(), "access")
