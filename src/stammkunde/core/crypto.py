"""Secrets the database has to keep readable (mail passwords): Fernet, keyed from SECRET_KEY.

A mail server needs the password itself, so it cannot be hashed like a login
password. It is stored encrypted with ``cryptography``'s Fernet (AES-128-CBC
with an HMAC), the key derived from ``SECRET_KEY`` by HKDF. A database dump
alone does not reveal it. ``SECRET_KEY_FALLBACKS`` still decrypt, so a rotated
key keeps the stored passwords readable until they are saved again; a lost key
makes them unreadable (``SecretUnreadable``): they have to be entered again.
"""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_SALT = b"stammkunde.core.crypto"
_INFO = b"stored secrets v1"


class SecretUnreadable(Exception):
    """The stored secret was encrypted with another SECRET_KEY (or is damaged)."""


def _key(secret_key: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(
        secret_key.encode()
    )
    return base64.urlsafe_b64encode(derived)


@functools.lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_key(k)) for k in keys])


def _current() -> MultiFernet:
    fallbacks = tuple(getattr(settings, "SECRET_KEY_FALLBACKS", ()) or ())
    return _fernet((settings.SECRET_KEY, *fallbacks))


def secret_encrypt(plain: str) -> str:
    """The text encrypted with the current SECRET_KEY, as ASCII for a text column."""
    return _current().encrypt(plain.encode()).decode("ascii")


def secret_decrypt(token: str) -> str:
    """The text back; ``SecretUnreadable`` when no current or fallback key opens it."""
    try:
        return _current().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError, ValueError) as exc:
        raise SecretUnreadable(str(exc) or "invalid token") from exc
