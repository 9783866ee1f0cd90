"""The `Authorization: Token ...` header: encoding per version, decoding on receipt, token hashing."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

__all__ = [
    "authorization_header",
    "generate_token",
    "hash_token",
    "token_candidates",
    "tokens_equal",
]


def generate_token() -> str:
    """A new credentials token: 43 URL-safe characters (256 bits), within string(64), printable ASCII."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 hex digest; tokens we issue are stored only as this (they are random, so no salt/KDF)."""
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_equal(a: str, b: str) -> bool:
    """Constant-time comparison of two tokens."""
    return hmac.compare_digest(a.encode(), b.encode())


_RAW_TOKEN_VERSIONS = frozenset({"2.0", "2.1", "2.1.1", "2.2"})


def authorization_header(token: str, version: str | None) -> str:
    """Header value to call a peer: Base64 for 2.2.1 and later (transport_and_format_authorization_header),
    the raw token for 2.2 and older (Base64 first appeared in 2.2-d2)."""
    if version in _RAW_TOKEN_VERSIONS:
        return f"Token {token}"
    return "Token " + base64.b64encode(token.encode()).decode()


def token_candidates(header: str | None) -> list[str]:
    """Tokens a received header may carry: the Base64-decoded value (2.2+) and the raw value (2.1.1,
    and 2.2 peers that never encoded). Empty when the header is missing or not `Token ...`."""
    if not header:
        return []
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "token" or not value:
        return []
    candidates = []
    try:
        decoded = base64.b64decode(value, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    if decoded and decoded.isprintable():
        candidates.append(decoded)
    candidates.append(value)
    return candidates
