"""JWTs: access tokens that authenticate requests and refresh tokens that renew them, signed
with HS256 by the server's secret.

The secret is `LLMTRAIL_SECRET_KEY`, or one `serve` generates into the data dir before the
server answers (`ensure_secret`): every server process of the data dir reads the same one,
and one made lazily by whichever request came first could race another process's.
"""

from __future__ import annotations

import os
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import jwt

from llmtrail.config import ConfigError, Settings
from llmtrail.core.keys import KEY_PREFIX
from llmtrail.errors import Unauthorized

TokenType = Literal["access", "refresh"]
ALGORITHM = "HS256"
SECRET_FILE = "secret_key"
CLAIMS = ("user_id", "org_id", "role", "token_type", "exp", "iat", "jti")
# Three base64url segments: header, payload and signature (empty for `alg: none`).
JWT_FORM = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
WRONG_TYPE = {
    "access": "A refresh token cannot authenticate a request: send the access token.",
    "refresh": "An access token cannot be refreshed: send the refresh token.",
}


def is_jwt(credential: str) -> bool:
    """Whether a Bearer credential has the form of a JWT rather than of an API key."""
    return not credential.startswith(KEY_PREFIX) and JWT_FORM.fullmatch(credential) is not None


def secret_path(settings: Settings) -> Path:
    return settings.data_dir / SECRET_FILE


def ensure_secret(settings: Settings) -> None:
    """Without LLMTRAIL_SECRET_KEY, generate the secret into the data dir once, readable by
    its owner alone (0600 from the moment it exists)."""
    if settings.secret_key is not None:
        return
    path = secret_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_urlsafe(48))


def load_secret(settings: Settings) -> str:
    if settings.secret_key is not None:
        return settings.secret_key
    try:
        return secret_path(settings).read_text().strip()
    except FileNotFoundError:
        raise ConfigError(
            f"no LLMTRAIL_SECRET_KEY and no {secret_path(settings)}: `llmtrail serve` makes it"
        ) from None


@dataclass(frozen=True)
class Claims:
    user_id: int
    org_id: int
    role: str
    expires_at: float  # seconds since the epoch


@dataclass(frozen=True)
class Signer:
    secret: str
    access_seconds: int
    refresh_seconds: int

    @classmethod
    def of(cls, settings: Settings) -> Signer:
        return cls(load_secret(settings), settings.jwt_access_seconds, settings.jwt_refresh_seconds)

    def issue(self, user_id: int, org_id: int, role: str, token_type: TokenType) -> str:
        now = int(time.time())
        lifetime = self.access_seconds if token_type == "access" else self.refresh_seconds
        claims = {
            "user_id": user_id,
            "org_id": org_id,
            "role": role,
            "token_type": token_type,
            "iat": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def verify(self, token: str, token_type: TokenType) -> Claims:
        """The claims of a token of this type signed by us and not expired; refused with a
        detail saying what is wrong with it otherwise."""
        try:
            claims = jwt.decode(
                token, self.secret, algorithms=[ALGORITHM], options={"require": list(CLAIMS)}
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The token has expired.") from None
        except jwt.InvalidAlgorithmError:
            raise Unauthorized(f"The token is refused: only {ALGORITHM} tokens are.") from None
        except jwt.InvalidSignatureError:
            raise Unauthorized("The token's signature is invalid.") from None
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthorized(f"The token has no '{exc.claim}' claim.") from None
        except jwt.InvalidTokenError:
            raise Unauthorized("The token is malformed.") from None
        if claims["token_type"] != token_type:
            raise Unauthorized(WRONG_TYPE[token_type])
        return Claims(claims["user_id"], claims["org_id"], claims["role"], claims["exp"])
