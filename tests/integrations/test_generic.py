"""The generic signed JSON webhook: signature over "<timestamp>.<body>", the normalized ticket shape."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from app.core.ticket import Message, Requester, Ticket
from integrations.generic import ADAPTER
from integrations.protocol import InboundRequest, IntegrationConfig, PayloadError, SignatureError

SECRET = "generic-test-secret"
CONFIG = IntegrationConfig(
    id="i1", tenant_id="t1", provider="generic", secret=SECRET, credentials={}, api_base_url="https://cb.example"
)


def signed(body: bytes, timestamp: int, secret: str = SECRET, delivery: str = "d-1") -> InboundRequest:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return InboundRequest(
        body=body,
        headers={
            "x-deskguard-timestamp": str(timestamp),
            "x-deskguard-signature": f"v1={digest}",
            "x-deskguard-delivery": delivery,
        },
    )


def ticket_body() -> bytes:
    return json.dumps(
        {
            "ticket_id": "T-9",
            "subject": "Locked out",
            "messages": [{"author": "requester", "body": "Please reset my 2FA, I lost my phone."}],
            "requester": {"email": "ana@example.com"},
        }
    ).encode()


def test_independently_computed_signature_is_accepted_and_parsed() -> None:
    now = time.time()
    body = ticket_body()
    request = signed(body, int(now))
    ADAPTER.verify(request, CONFIG, now)
    parsed = ADAPTER.parse(json.loads(body), CONFIG)
    source = json.loads(body)
    assert parsed.ref == source["ticket_id"]
    assert parsed.ticket is not None
    assert parsed.ticket.requester.email == source["requester"]["email"]
    assert parsed.ticket.messages[-1].body == source["messages"][-1]["body"]
    assert ADAPTER.delivery_id(request, source) == "d-1"


def test_one_of_several_signatures_may_match_during_rotation() -> None:
    now = time.time()
    body = ticket_body()
    request = signed(body, int(now))
    old = signed(body, int(now), secret="old-secret").headers["x-deskguard-signature"]
    headers = dict(request.headers)
    headers["x-deskguard-signature"] = f"{old}, {request.headers['x-deskguard-signature']}"
    ADAPTER.verify(InboundRequest(body=body, headers=headers), CONFIG, now)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ("tamper", "signature_invalid"),
        ("wrong_secret", "signature_invalid"),
        ("stale", "timestamp_stale"),
        ("future", "timestamp_stale"),
        ("no_signature", "signature_missing"),
        ("no_timestamp", "signature_missing"),
        ("bad_timestamp", "signature_invalid"),
    ],
)
def test_refusals(change: str, code: str) -> None:
    now = time.time()
    body = ticket_body()
    timestamp = int(now) - 301 if change == "stale" else int(now) + 301 if change == "future" else int(now)
    request = signed(body, timestamp, secret="other" if change == "wrong_secret" else SECRET)
    headers = dict(request.headers)
    if change == "tamper":
        body = body.replace(b"2FA", b"MFA")
    if change == "no_signature":
        del headers["x-deskguard-signature"]
    if change == "no_timestamp":
        del headers["x-deskguard-timestamp"]
    if change == "bad_timestamp":
        headers["x-deskguard-timestamp"] = "soon"
    with pytest.raises(SignatureError) as caught:
        ADAPTER.verify(InboundRequest(body=body, headers=headers), CONFIG, now)
    assert caught.value.code == code


def test_no_secret_configured_refuses_everything() -> None:
    now = time.time()
    body = ticket_body()
    config = IntegrationConfig(
        id="i1", tenant_id="t1", provider="generic", secret="", credentials={}, api_base_url="https://cb.example"
    )
    with pytest.raises(SignatureError) as caught:
        ADAPTER.verify(signed(body, int(now), secret=""), config, now)
    assert caught.value.code == "secret_invalid"


def test_delivery_without_id_is_keyed_by_its_bytes() -> None:
    body = ticket_body()
    request = InboundRequest(body=body, headers={})
    assert ADAPTER.delivery_id(request, {}) == ADAPTER.delivery_id(InboundRequest(body=body, headers={}), {})
    assert ADAPTER.delivery_id(request, {}) != ADAPTER.delivery_id(InboundRequest(body=body + b" ", headers={}), {})


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"ticket_id": ""},
        {"ticket_id": "T", "messages": "not a list"},
        {"ticket_id": "T", "requester": {"email": 5}},
        {"ticket_id": "T", "unknown": 1},
        {"ticket_id": "T", "channel": "pigeon"},
    ],
)
def test_malformed_tickets_are_payload_errors(payload: dict[str, object]) -> None:
    with pytest.raises(PayloadError):
        ADAPTER.parse(payload, CONFIG)


def test_sample_round_trips_through_verify_and_parse() -> None:
    now = time.time()
    ticket = Ticket(
        ticket_id="T-1",
        messages=[Message(body="hello")],
        requester=Requester(email="a@example.com"),
    )
    request = ADAPTER.sample(CONFIG, ticket, now)
    ADAPTER.verify(request, CONFIG, now)
    parsed = ADAPTER.parse(json.loads(request.body), CONFIG)
    assert parsed.ticket == ticket
