"""Sessions: a user signs in for a pair of tokens, renews its access token with the refresh
token, and is authenticated by the access token.

A token is checked against the user as it is now, on every use past the key cache: a
disabled user's tokens stop working, and a changed role applies to tokens already issued.
The refresh token is not rotated: without a table of spent ones an old refresh token would
go on working anyway, and what ends a session early is disabling the user.
"""

from __future__ import annotations

from sqlalchemy import Engine

from llmtrail.core import users
from llmtrail.core.keys import Principal
from llmtrail.core.tokens import Claims, Signer


def sign_in(
    engine: Engine, signer: Signer, email: str, password: str, org: str | None = None
) -> dict[str, str]:
    """`{access, refresh}` for the member whose password this is (401 otherwise)."""
    member = users.verify(engine, email, password, org)
    return {
        token_type: signer.issue(member.user_id, member.org_id, member.role, token_type)
        for token_type in ("access", "refresh")
    }


def refresh(engine: Engine, signer: Signer, token: str) -> dict[str, str]:
    """`{access}`: a new access token for the refresh token's user, with its current role."""
    claims = signer.verify(token, "refresh")
    member = users.active_member(engine, claims.user_id, claims.org_id)
    return {"access": signer.issue(member.user_id, member.org_id, member.role, "access")}


def authenticate(engine: Engine, signer: Signer, token: str) -> tuple[Principal, float]:
    """The principal of an access token, and when the token expires (seconds since the
    epoch): it may be trusted until then at most."""
    claims = signer.verify(token, "access")
    return _member(engine, claims), claims.expires_at


def resume(engine: Engine, signer: Signer, token: str) -> Principal:
    """The principal of a browser session: the UI keeps a refresh token in its cookie, so a
    session lasts as long as one, and ends as soon as the user is disabled."""
    return _member(engine, signer.verify(token, "refresh"))


def _member(engine: Engine, claims: Claims) -> Principal:
    """The user the claims name, as a principal with its current role."""
    member = users.active_member(engine, claims.user_id, claims.org_id)
    return Principal(
        member.org_id, None, "", "prod", member.role, user_id=member.user_id, via="jwt"
    )
