"""Secrets at rest: Fernet (AES-128-CBC with an HMAC-SHA256) under the keys of
``settings.FLOWSITE_SECRETS_KEYS``, where flowsite/settings.py explains where they come
from. The database only ever holds what ``encrypt`` returns."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

__all__ = ["InvalidToken", "decrypt", "encrypt"]


def _fernet() -> MultiFernet:
    # The first key encrypts; every key decrypts, so that keys can be rotated.
    return MultiFernet([Fernet(key) for key in settings.FLOWSITE_SECRETS_KEYS])


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(ciphertext: str) -> str:
    """The plaintext; raises ``InvalidToken`` when no configured key opens it."""
    return _fernet().decrypt(ciphertext.encode("ascii")).decode("utf-8")
