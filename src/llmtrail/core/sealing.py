"""Values sealed at rest with the server's secret (`core.tokens.load_secret`: the
LLMTRAIL_SECRET_KEY, or the mode-0600 file `serve` makes in the data dir): a Tool's
environment variables.

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`), under a key derived from the
secret by HKDF for this use alone, so the key that signs JWTs never encrypts anything. A
value sealed under another secret does not open: it answers so, never garbage.
"""

from __future__ import annotations

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from llmtrail.errors import Conflict

PURPOSE = b"llmtrail: sealed tool environment variables"


@cache
def _fernet(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(
        secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str, value: str) -> str:
    return _fernet(secret).encrypt(value.encode()).decode()


def unseal(secret: str, sealed: str) -> str:
    """The value, or Conflict when it was sealed under another secret."""
    try:
        return _fernet(secret).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise Conflict(
            "a stored value was sealed with another server secret (LLMTRAIL_SECRET_KEY or"
            " the data dir's secret_key changed): set it again"
        ) from None
