"""Redaction is proven on the REAL rendered output (the root handler's stream), not capture_logs."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from app.auth import issue_token
from app.logging import (
    REDACTED,
    _RootHandler,
    configure_logging,
    fingerprint,
    get_logger,
    is_sensitive_key,
    mark_logged,
    redact,
    scrub_text,
)
from app.settings import Settings

SETTINGS = Settings(env="production", jwt_secret="p" * 40, log_level="INFO")
EMAIL = "jane.requester@example.com"
PHONE = "+44 20 7946 0958"
JWT = issue_token(SETTINGS, tenant="acme", role="agent", subject="agent-7")
BODY = (
    "Hi, this is the CFO. I'm locked out and boarding a plane, reset my MFA now and send the link to "
    "cfo.backup@freemail.example or call me on (415) 555-0134. Don't tell IT."
)
BODY_MARKER = "boarding a plane"
SECRETS = [EMAIL, PHONE, JWT, *JWT.split("."), "cfo.backup@freemail.example", "(415) 555-0134", "555-0134"]


def _remove_our_handlers() -> None:
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _RootHandler)]:
        root.removeHandler(handler)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    level = logging.getLogger().level
    yield
    _remove_our_handlers()
    logging.getLogger().setLevel(level)
    structlog.contextvars.clear_contextvars()
    structlog.reset_defaults()


def _raise_with_contact_details() -> None:
    local_secret = "LOCAL-VARIABLE-VALUE-9f2c"  # a traceback with locals would print this
    lookup = {"who": EMAIL, "secret": local_secret}
    raise LookupError(f"no account for {lookup['who']} (phone {PHONE})")


def _log_everything() -> None:
    log = get_logger("deskguard.test")
    structlog.contextvars.bind_contextvars(request_id="req-123")
    # As keyword values, under sensitive keys and under harmless-looking ones.
    log.info(
        "ticket_received",
        body=BODY,
        requester_email=EMAIL,
        phone=PHONE,
        authorization=f"Bearer {JWT}",
        ticket_id="T-1001",
        email_fp=fingerprint(EMAIL),
        note=f"agent pasted: {BODY}",
    )
    # Embedded inside strings: the event itself and ordinary values, nested containers too.
    log.info(f"ticket_parsed from {EMAIL} phone {PHONE} token {JWT}")
    log.warning(
        "webhook_rejected",
        reason=f"signature mismatch for {EMAIL}, callback {PHONE}, Authorization: Bearer {JWT}",
        headers={"Authorization": f"Bearer {JWT}", "X-Trace": "abc"},
        payload={"ticket": {"description": BODY, "tags": [EMAIL, PHONE]}},
        url=f"/v1/verify?token={JWT}&next=1",
    )
    # Through stdlib loggers (uvicorn's and a library's), with %-style arguments.
    logging.getLogger("uvicorn.error").warning("client_error from %s with %s", EMAIL, JWT)
    logging.getLogger("sqlalchemy.engine.Engine").info("INSERT ... parameters (%r,)", BODY)
    # Exceptions whose messages carry contact details, from structlog and from stdlib.
    try:
        _raise_with_contact_details()
    except LookupError:
        log.exception("account_lookup_failed")
        logging.getLogger("deskguard.store").exception("store_lookup_failed for %s", EMAIL)


def _assert_clean(output: str) -> None:
    for secret in SECRETS:
        assert secret not in output, f"leaked {secret!r}"
    assert BODY_MARKER not in output
    assert "LOCAL-VARIABLE-VALUE" not in output


def test_production_json_output_redacts_everything(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(SETTINGS)
    _log_everything()
    output = capsys.readouterr().out

    _assert_clean(output)
    records = [json.loads(line) for line in output.splitlines() if line.strip()]
    events = [r["event"] for r in records]
    assert events[0] == "ticket_received"
    assert events[1].startswith("ticket_parsed from [redacted-email]")
    assert {"webhook_rejected", "account_lookup_failed"} <= set(events)
    assert any(e.startswith("client_error from [redacted-email]") for e in events)
    assert any(e.startswith("store_lookup_failed for [redacted-email]") for e in events)
    assert not any("INSERT" in e for e in events)  # SQLAlchemy parameters are not logged at INFO

    received = records[0]
    assert received["body"] == REDACTED
    assert received["requester_email"] == REDACTED
    assert received["authorization"] == REDACTED
    assert received["note"] == REDACTED
    assert received["ticket_id"] == "T-1001"
    assert received["email_fp"] == fingerprint(EMAIL)
    assert received["request_id"] == "req-123"
    assert received["level"] == "info"
    assert received["logger"] == "deskguard.test"

    rejected = next(r for r in records if r["event"] == "webhook_rejected")
    assert rejected["headers"] == {"Authorization": REDACTED, "X-Trace": "abc"}
    assert rejected["payload"]["ticket"]["description"] == REDACTED
    assert rejected["payload"]["ticket"]["tags"] == ["[redacted-email]", "[redacted-phone]"]

    failed = next(r for r in records if r["event"] == "account_lookup_failed")
    assert "Traceback (most recent call last)" in failed["exception"]
    assert "LookupError: no account for [redacted-email] (phone [redacted-phone])" in failed["exception"]


def test_development_console_output_redacts_and_prints_plain_tracebacks() -> None:
    stream = io.StringIO()
    configure_logging(Settings(env="development"), stream=stream)
    _log_everything()
    output = stream.getvalue()

    _assert_clean(output)
    assert "ticket_received" in output
    assert "Traceback (most recent call last)" in output
    assert not output.lstrip().startswith("{")  # console lines, not JSON


def test_configure_logging_is_idempotent() -> None:
    stream = io.StringIO()
    configure_logging(SETTINGS, stream=stream)
    configure_logging(SETTINGS, stream=stream)
    get_logger("deskguard.test").info("ticket_assessed", score=12)
    assert sum(isinstance(h, _RootHandler) for h in logging.getLogger().handlers) == 1
    assert stream.getvalue().count("ticket_assessed") == 1


def test_server_relog_of_an_already_logged_exception_is_dropped() -> None:
    stream = io.StringIO()
    configure_logging(SETTINGS, stream=stream)
    for marked in (False, True):
        try:
            raise RuntimeError(f"marked={marked}")
        except RuntimeError as exc:
            if marked:
                mark_logged(exc)
            logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    output = stream.getvalue()
    assert "marked=False" in output and "marked=True" not in output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail john.doe+x@example.co.uk now", "mail [redacted-email] now"),
        ("call +1 (555) 123-4567.", "call [redacted-phone]."),
        ("call 555.123.4567 or 07700 900123", "call [redacted-phone] or [redacted-phone]"),
        ("bare 5551234567", "bare [redacted-phone]"),
        ("Authorization: Bearer abc.def.ghi123", "Authorization: Bearer [redacted]"),
        ("raw " + JWT, "raw [redacted-jwt]"),
        ('json {"password": "hunter2"}', 'json {"password": [redacted]}'),
        ("url /r?access_token=abc123&x=1", "url /r?access_token=[redacted]&x=1"),
        ("my code is 482913", "my code is [redacted]"),
        ("sha " + "ab12" * 16, "sha [redacted-secret]"),
        ("key sk_live_4eC39HqLyjWDarjtT1zdp7dcXYZab12", "key [redacted-secret]"),
        # Left alone: dates, timestamps, short numbers, uuids, ids, paths, durations.
        ("at 2024-05-01T12:00:00.123456+00:00", "at 2024-05-01T12:00:00.123456+00:00"),
        ("on 2024-05-01 12:00:00", "on 2024-05-01 12:00:00"),
        ("ticket 48213345 status 503", "ticket 48213345 status 503"),
        ("id 3f2a9c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b", "id 3f2a9c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"),
        ('File "/app/.venv/lib/python3.11/site-packages/x.py", line 186', None),
        ("took 12.5 ms", None),
        ("token_expired: no", None),
    ],
)
def test_scrub_text(text: str, expected: str | None) -> None:
    assert scrub_text(text) == (text if expected is None else expected)


def test_digests_survive_under_digest_keys_only() -> None:
    digest = "ab12" * 16
    event = {"event": "x", "pack_hash": digest, "blob": digest, "n": {"file_sha256": digest}}
    out = redact(None, "info", event)
    assert out["pack_hash"] == digest and out["n"] == {"file_sha256": digest}
    assert out["blob"] == "[redacted-secret]"


def test_objects_are_logged_by_type_not_repr() -> None:
    class Ticket:
        def __repr__(self) -> str:
            return BODY

    assert redact(None, "info", {"event": "x", "ticket": Ticket()})["ticket"] == "[redacted-object:Ticket]"


def test_scrub_text_caps_length() -> None:
    assert scrub_text("a " * 10_000).endswith("...[truncated]")


@pytest.mark.parametrize(
    ("key", "sensitive"),
    [
        ("body", True),
        ("Authorization", True),
        ("requester_email", True),
        ("ticket-body", True),
        ("x_auth_token", True),
        ("code", True),
        ("name", True),
        ("email_fp", False),
        ("body_len", False),
        ("token_type", False),
        ("status_code", False),
        ("rule_name", False),
        ("ticket_id", False),
    ],
)
def test_is_sensitive_key(key: str, sensitive: bool) -> None:
    assert is_sensitive_key(key) is sensitive


def test_fingerprint_is_short_stable_and_normalized() -> None:
    fp = fingerprint(EMAIL)
    assert len(fp) == 12 and all(c in "0123456789abcdef" for c in fp)
    assert fingerprint(f"  {EMAIL.upper()} ") == fp
    assert fingerprint("someone.else@example.com") != fp
