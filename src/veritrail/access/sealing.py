"""Sealing small secrets (TOTP shared secrets) with a key derived from the server's.

The sealing key is derived from ``Settings.resolved_secret_key()`` with HKDF
(SHA-256, a fixed purpose label), so the session-signing key itself never
encrypts anything, and a second purpose gets its own key by its own label.
Sealed values are Fernet tokens (AES-128-CBC with HMAC-SHA256): tampering with
one, or opening it under another key, is refused.

Changing the server's secret key makes every sealed value unreadable: users
then enrol their second factor again.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from veritrail.errors import ConfigurationError
from veritrail.settings import Settings

PURPOSE = b"veritrail/sealing/v1"


@lru_cache(maxsize=8)
def _fernet(secret_key: str, purpose: bytes) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


class Sealer:
    """Seals and opens short text under one server key."""

    __slots__ = ("_fernet",)

    def __init__(self, secret_key: str, *, purpose: bytes = PURPOSE) -> None:
        if not secret_key:
            raise ConfigurationError("sealing needs a non-empty secret key")
        self._fernet = _fernet(secret_key, purpose)

    @classmethod
    def from_settings(cls, settings: Settings) -> Sealer:
        return cls(settings.resolved_secret_key())

    def seal(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode("ascii")

    def unseal(self, token: str) -> str:
        """The text sealed in ``token``; :class:`ConfigurationError` if it cannot be opened."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, UnicodeError) as exc:
            raise ConfigurationError(
                "a sealed secret cannot be opened with this server's key "
                "(was VERITRAIL_SECRET_KEY changed?)"
            ) from exc


__all__ = ["PURPOSE", "Sealer"]
