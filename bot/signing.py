"""The server's signing keys: the current one signs, older ones are kept so what they signed still verifies.

Certificates and confirmation buttons are signed with HMAC-SHA256. A key must carry at least 32 random
bytes: anything shorter can be recovered offline from a single signed certificate (a short key was, in
milliseconds) and then used to forge any number of them. Every key is identified by a key id derived from
it, so a certificate says which key signed it and the key can be rotated without invalidating what the
old one signed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import string
from dataclasses import dataclass, field

MIN_KEY_BYTES = 32
# A key is text (an environment variable, a line of a file). Its strength is what the text can encode:
# 64 hex digits or 43 base64 characters hold 32 bytes; `openssl rand -hex 32`, `openssl rand -base64 32`
# and `secrets.token_urlsafe(32)` all qualify.
_HEX = frozenset(string.hexdigits)
_MIN_HEX_CHARS = 2 * MIN_KEY_BYTES
_MIN_TEXT_CHARS = -(-MIN_KEY_BYTES * 8 // 6)  # 43
_MIN_DISTINCT = 10  # "a" * 64 is long but not random
KEY_HINT = "generate one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'` or `openssl rand -hex 32`"


def key_problem(key: str) -> str | None:
    """Why `key` is too weak to sign with, or None when it carries at least MIN_KEY_BYTES random bytes."""
    needed = _MIN_HEX_CHARS if set(key) <= _HEX else _MIN_TEXT_CHARS
    if len(key) < needed:
        return f"is {len(key)} characters long; a signing key needs {MIN_KEY_BYTES} random bytes ({needed} characters)"
    if len(set(key)) < _MIN_DISTINCT:
        return f"has only {len(set(key))} different characters: it is not random"
    return None


def key_id(key: bytes) -> int:
    """One byte naming the key, derived from it (it reveals nothing about the key)."""
    return hmac.new(key, b"hocvu-key-id-v1", hashlib.sha256).digest()[0]


@dataclass(frozen=True)
class SigningKeys:
    current: bytes = field(repr=False)
    # Retired keys, for verification only. A retired key may be weak (the one a deployment used before keys
    # had to be long): what it signed is then trusted only when the database confirms it.
    old: tuple[bytes, ...] = field(default=(), repr=False)
    weak: frozenset[bytes] = field(default=frozenset(), repr=False)

    def all(self) -> tuple[bytes, ...]:
        return (self.current, *(key for key in self.old if key != self.current))

    def with_id(self, kid: int) -> tuple[bytes, ...]:
        return tuple(key for key in self.all() if key_id(key) == kid)

    def strong(self, key: bytes) -> bool:
        return key not in self.weak


def tag(key: bytes, purpose: bytes, *fields: str | int) -> bytes:
    """HMAC-SHA256 over `purpose` and the fields, unambiguously joined (a field cannot contain the NUL separator)."""
    message = purpose + b"\0" + b"\0".join(str(f).encode() for f in fields)
    return hmac.new(key, message, hashlib.sha256).digest()


def short_tag(key: bytes, purpose: bytes, *fields: str | int, size: int = 16) -> str:
    """A URL-safe text tag of `size` bytes, for button payloads (128 bits in 22 characters by default)."""
    return base64.urlsafe_b64encode(tag(key, purpose, *fields)[:size]).decode().rstrip("=")


def check_short_tag(given: str, key: bytes, purpose: bytes, *fields: str | int, size: int = 16) -> bool:
    return hmac.compare_digest(given.encode(), short_tag(key, purpose, *fields, size=size).encode())
