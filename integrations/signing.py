"""Signature and timestamp checks shared by the adapters. Every comparison is hmac.compare_digest."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

from integrations.protocol import SignatureError

DEFAULT_WINDOW_SECONDS = 300


def hmac_digest(secret: str | bytes, message: bytes, algorithm: str = "sha256") -> bytes:
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return hmac.new(key, message, getattr(hashlib, algorithm)).digest()


def hmac_hex(secret: str | bytes, message: bytes, algorithm: str = "sha256") -> str:
    return hmac_digest(secret, message, algorithm).hex()


def hmac_base64(secret: str | bytes, message: bytes, algorithm: str = "sha256") -> str:
    return base64.b64encode(hmac_digest(secret, message, algorithm)).decode("ascii")


def same(expected: str | bytes, given: str | bytes) -> bool:
    """Constant-time equality of two signatures (text compared as UTF-8 bytes)."""
    a = expected.encode("utf-8") if isinstance(expected, str) else expected
    b = given.encode("utf-8") if isinstance(given, str) else given
    return hmac.compare_digest(a, b)


def require_header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name.lower(), "").strip()
    if not value:
        raise SignatureError("signature_missing", f"the {name} header is missing")
    return value


def require_secret(secret: str) -> str:
    if not secret:
        raise SignatureError("secret_invalid", "this integration has no webhook secret; set one with the CLI or API")
    return secret


def check_signature(expected: str | bytes, given: str | bytes, what: str = "signature") -> None:
    if not same(expected, given):
        raise SignatureError("signature_invalid", f"the {what} does not match the body and this integration's secret")


def check_window(timestamp: str | float, now: float, window: float = DEFAULT_WINDOW_SECONDS) -> float:
    """Seconds since the epoch from `timestamp` (seconds or milliseconds), refused outside ±window."""
    try:
        value = float(timestamp)
    except (TypeError, ValueError):
        raise SignatureError("signature_invalid", "the signature timestamp is not a number") from None
    if value > 1e11:  # milliseconds
        value /= 1000.0
    if abs(now - value) > window:
        raise SignatureError("timestamp_stale", f"the signature timestamp is more than {int(window)} s from now")
    return value
