"""Logging: one structlog processor chain shared with stdlib logging, with redaction as the backstop.

Every record, whether it comes from structlog (`get_logger`) or from a stdlib logger (uvicorn,
SQLAlchemy, libraries), goes through the same chain on the root handler:

    contextvars -> level, logger, timestamp -> plain-text exception -> redact -> JSON | console

Redaction runs last before rendering, so nothing that reaches the output escaped it. It replaces the
values of sensitive keys (`body`, `email`, `token`, ...) with "[redacted]" and scrubs e-mail
addresses, phone numbers, bearer tokens, JWTs and long secrets out of every string, including the
event and the formatted traceback. Tracebacks are plain text, never with local variables.

Redaction is a backstop: log ids and `fingerprint()`s, never ticket text or contact details.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import sys
import uuid
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Any, TextIO

import structlog
from structlog.types import EventDict, Processor, WrappedLogger

from app.settings import Settings

REDACTED = "[redacted]"
MAX_STRING_CHARS = 4_096
MAX_TRACEBACK_CHARS = 32_768
_MAX_DEPTH = 6

# Values of these keys (lower-cased, "-" read as "_") are replaced whole.
SENSITIVE_KEYS = frozenset(
    {
        "body", "text", "subject", "message", "messages", "content", "description", "comment", "comments",
        "note", "notes", "html", "snippet", "email", "emails", "phone", "phones", "phone_number", "mobile",
        "address", "name", "first_name", "last_name", "full_name", "display_name", "username",
        "requester_name", "token", "tokens", "access_token", "refresh_token", "id_token", "jwt",
        "authorization", "cookie", "set_cookie", "password", "passwd", "secret", "client_secret", "api_key",
        "apikey", "private_key", "credential", "credentials", "signature", "code", "otp", "pin",
        "verification_code", "ssn", "dob", "date_of_birth"
    }
)
# A key with one of these parts is sensitive too (`requester_email`, `ticket_body`, `x_auth_token`)...
_SENSITIVE_PARTS = frozenset(
    {
        "email", "emails", "phone", "phones", "token", "tokens", "password", "passwd", "secret",
        "authorization", "cookie", "body", "text", "subject", "jwt", "otp", "credential", "credentials"
    }
)
# ...unless its last part says the value is derived and harmless (`email_fp`, `body_len`, `token_type`).
_SAFE_LAST_PARTS = frozenset(
    {
        "fp", "fingerprint", "hash", "sha256", "count", "len", "length", "bytes", "size", "chars", "words",
        "id", "ids", "kind", "type", "present", "verified", "status", "matched", "changed", "source",
        "domain", "ttl"
    }
)
# Values of these keys are written by us and are never scrubbed (a uuid4 hex request id is not a secret).
_TRUSTED_KEYS = frozenset({"timestamp", "level", "logger", "request_id", "duration_ms", "status", "method"})
# Values of keys ending so are digests we computed: long hex is expected there, not a secret.
_DIGEST_LAST_PARTS = frozenset({"hash", "sha256", "digest", "checksum", "fingerprint", "fp", "etag"})
_LEADING_KEYS = {"timestamp": 0, "level": 1, "event": 2, "logger": 3, "request_id": 4}

_BEARER = re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{6,}")
_JWT = re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_KEY_VALUE = re.compile(
    r"""(?ix)
    \b([\w-]*?(?:password|passwd|secret|token|api[_-]?key)["']?\s*[=:]\s*)
    ("[^"]*"|'[^']*'|[^\s,;&"']+)
    """
)
_SHORT_CODE = re.compile(r"(?i)\b(code|otp|pin|passcode)(\s*(?:is\s*)?[=:]?\s*)\d{4,8}\b")
_EMAIL = re.compile(r"(?<![\w.%+'-])[\w.%+'-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")
_PHONE = re.compile(r"(?<![\w:./+-])\+?\(?\d(?:[ \t().-]{0,2}\d){5,}(?![\w:/])")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_HEX_SECRET = re.compile(r"(?<![A-Za-z0-9])[0-9a-fA-F]{40,}(?![A-Za-z0-9])")
_B64_SECRET = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{32,}={0,2}(?![A-Za-z0-9+/=_-])")


def fingerprint(value: str) -> str:
    """A short, stable sha256 prefix to log instead of a contact (email, phone) or other identifier."""
    return hashlib.sha256(value.strip().casefold().encode("utf-8")).hexdigest()[:12]


def _phone(match: re.Match[str]) -> str:
    found = match.group(0)
    digits = sum(ch.isdigit() for ch in found)
    bare = found.isdigit()
    if digits < 7 or _ISO_DATE.fullmatch(found) or (bare and digits < 10):
        return found
    return "[redacted-phone]"


def _b64(match: re.Match[str]) -> str:
    found = match.group(0)
    classes = (str.isupper, str.islower, str.isdigit)
    mixed = all(any(test(c) for c in found) for test in classes)
    return "[redacted-secret]" if mixed else found


def scrub_text(text: str, *, limit: int = MAX_STRING_CHARS, long_secrets: bool = True) -> str:
    """Remove contact details, tokens and secrets from free text (an event, an error, a traceback).

    `long_secrets=False` keeps long hex/base64 runs: for values logged as digests (`*_hash`, `*_sha256`).
    """
    if len(text) > limit:
        text = text[:limit] + "...[truncated]"
    text = _BEARER.sub(r"\1\2[redacted]", text)
    text = _JWT.sub("[redacted-jwt]", text)
    text = _KEY_VALUE.sub(lambda m: m.group(1) + REDACTED, text)
    text = _EMAIL.sub("[redacted-email]", text)
    text = _SHORT_CODE.sub(r"\1\2[redacted]", text)
    if long_secrets:
        text = _HEX_SECRET.sub("[redacted-secret]", text)
        text = _B64_SECRET.sub(_b64, text)
    return _PHONE.sub(_phone, text)


def is_sensitive_key(key: object) -> bool:
    norm = str(key).strip().lower().replace("-", "_")
    if norm in SENSITIVE_KEYS:
        return True
    parts = [p for p in norm.split("_") if p]
    if len(parts) < 2 or parts[-1] in _SAFE_LAST_PARTS:
        return False
    return any(p in _SENSITIVE_PARTS for p in parts)


def _scrub_value(value: Any, depth: int = 0) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return scrub_text(value)
    if depth >= _MAX_DEPTH:
        return "[truncated]"
    if isinstance(value, Mapping):
        return {str(k): _redact_item(k, v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub_value(v, depth + 1) for v in value]
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {scrub_text(str(value))}"
    if isinstance(value, Enum):
        return _scrub_value(value.value, depth + 1)
    if isinstance(value, uuid.UUID | datetime | date | time | Decimal | PurePath):
        return scrub_text(str(value))
    # An arbitrary object's repr may hold anything (a Ticket with its body): log its type only.
    return f"[redacted-object:{type(value).__name__}]"


def _redact_item(key: object, value: Any, depth: int = 0) -> Any:
    if is_sensitive_key(key):
        return None if value is None else REDACTED
    if isinstance(value, str) and str(key).lower().rsplit("_", 1)[-1] in _DIGEST_LAST_PARTS:
        return scrub_text(value, long_secrets=False)
    return _scrub_value(value, depth)


def redact(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor; the last one before rendering."""
    out: EventDict = {}
    ordered = sorted(event_dict.items(), key=lambda kv: _LEADING_KEYS.get(kv[0], len(_LEADING_KEYS)))
    for key, value in ordered:
        if key in ("exception", "stack") and isinstance(value, str):
            out[key] = scrub_text(value, limit=MAX_TRACEBACK_CHARS)
        elif key == "event" and isinstance(value, str):
            out[key] = scrub_text(value)
        elif key in _TRUSTED_KEYS:
            out[key] = value if isinstance(value, str | int | float | None) else _scrub_value(value)
        else:
            out[key] = _redact_item(key, value)
    return out


_LOGGED_MARK = "_deskguard_logged"


def mark_logged(exc: BaseException) -> None:
    """Note that `exc` was logged with its traceback, so a server re-logging it is dropped."""
    with contextlib.suppress(AttributeError):
        setattr(exc, _LOGGED_MARK, True)


class _DropAlreadyLogged(logging.Filter):
    """uvicorn logs "Exception in ASGI application" for errors our 500 handler already logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not (record.name.startswith("uvicorn") and getattr(exc, _LOGGED_MARK, False))


class _RootHandler(logging.StreamHandler[TextIO]):
    """The one handler Deskguard installs on the root logger; follows `sys.stdout` unless given a stream."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream if stream is not None else sys.stdout)
        self._follow_stdout = stream is None

    def emit(self, record: logging.LogRecord) -> None:
        if self._follow_stdout:
            self.stream = sys.stdout
        super().emit(record)


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]


def build_formatter(settings: Settings) -> structlog.stdlib.ProcessorFormatter:
    renderer: Processor
    if settings.json_logs:
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=sys.stdout.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,  # plain text, no locals; redacted next
            redact,
            renderer,
        ],
    )


def configure_logging(settings: Settings, *, stream: TextIO | None = None) -> None:
    """Route structlog and stdlib logging through one redacting chain. Safe to call again."""
    level = logging.getLevelName(settings.log_level.upper())
    if not isinstance(level, int):
        level = logging.INFO
    handler = _RootHandler(stream)
    handler.setFormatter(build_formatter(settings))
    handler.addFilter(_DropAlreadyLogged())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _RootHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)

    # Libraries log through the root handler, not their own.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy", "alembic", "py.warnings"):
        lib = logging.getLogger(name)
        lib.handlers.clear()
        lib.propagate = True
    # CorrelationIdMiddleware logs `request_finished`; uvicorn's access line would repeat it with the
    # query string. SQLAlchemy at INFO logs statement parameters, which can be ticket text.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    logging.captureWarnings(True)

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
