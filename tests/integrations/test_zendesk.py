"""The Zendesk adapter: signed event-subscription and trigger webhooks, thin events completed over the
REST API, and the private note, tags and field written back to a fake Zendesk account."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

import integrations.zendesk as zendesk
from app.core.ticket import Message, Requester, Ticket
from integrations.base import body_digest
from integrations.http import WriteBackError
from integrations.payload import NOTE_MARKER_PREFIX
from integrations.protocol import InboundRequest, IntegrationConfig, Note, Parsed, PayloadError, SignatureError
from integrations.zendesk import ADAPTER
from tests.integrations.fakes.zendesk import AGENT_ID, CREDENTIALS, FIELD_ID, NOTE_REQUEST, OPTIONS, Fake

PAYLOADS = Path(__file__).parent / "payloads" / "zendesk"
GUIDE = Path(__file__).parents[2] / "docs" / "integrations" / "zendesk.md"
SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
LEVELS = ("low", "medium", "high", "critical")


# --- helpers -----------------------------------------------------------------------------------


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return data


def config(api_base_url: str = "https://deskguard-fake.zendesk.com", **changes: Any) -> IntegrationConfig:
    fields: dict[str, Any] = {
        "id": "zd-1",
        "tenant_id": "t1",
        "provider": "zendesk",
        "secret": SECRET,
        "credentials": CREDENTIALS,
        "api_base_url": api_base_url,
        "options": OPTIONS,
        **changes,
    }
    return IntegrationConfig(**fields)


def iso(now: float) -> str:
    return datetime.fromtimestamp(int(now), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def zendesk_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Written out from developer.zendesk.com/documentation/webhooks/verifying: base64(HMACSHA256(TIMESTAMP + BODY))."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("utf-8") + body, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def signed(body: bytes, now: float, secret: str = SECRET, **headers: str) -> InboundRequest:
    timestamp = iso(now)
    return InboundRequest(
        body=body,
        headers={
            "content-type": "application/json",
            "x-zendesk-webhook-signature": zendesk_signature(secret, timestamp, body),
            "x-zendesk-webhook-signature-timestamp": timestamp,
            "x-zendesk-webhook-id": "01F1KRFQ6BG29CNWFR60NK5FNY",
            "x-zendesk-webhook-invocation-id": "8350205582",
            **headers,
        },
    )


def requester_comment(
    payload: dict[str, Any], body: str = "Please move my account to my new email today."
) -> dict[str, Any]:
    """The comment_added fixture as if the requester (not an agent) had written a public comment."""
    event = copy.deepcopy(payload)
    comment = event["event"]["comment"]
    comment["author"] = {"id": event["detail"]["requester_id"], "is_staff": False, "name": "Requester"}
    comment["body"] = body
    return event


def make_note(level: str = "high", assessment_id: str = "asmt-1") -> Note:
    marker = f"{NOTE_MARKER_PREFIX}{assessment_id}"
    return Note(
        assessment_id=assessment_id,
        marker=marker,
        level=level,
        score=82,
        headline="Account takeover pattern: 2FA removal and email change requested together",
        reasons=("Asks to disable two-factor",),
        steps=("Call back the number on file",),
        forbidden=("Do not change the email from this ticket",),
        tags=("deskguard", f"deskguard-{level}"),
        stale_tags=tuple(f"deskguard-{other}" for other in LEVELS if other != level),
        text=f"Deskguard: High risk (82/100)\n\n{marker}",
        html=f"<p><strong>Deskguard: High risk (82/100)</strong></p><p><small>{marker}</small></p>",
    )


def sample_ticket(ref: str = "5158", body: str = "I lost my phone, please turn off 2FA and change my email.") -> Ticket:
    return Ticket(
        ticket_id=ref,
        subject="Locked out",
        channel="email",
        messages=[
            Message(author="requester", body="Hello, I cannot sign in."),
            Message(author="agent", body="Sorry to hear that. What happened?"),
            Message(author="requester", body=body),
        ],
        requester=Requester(name="Ana Lima", email="ana@example.com", phone="+15551234567", external_id="cust-1"),
        tags=["vip", "deskguard-low"],
    )


@pytest.fixture
def fake() -> Iterator[Fake]:
    with Fake() as server:
        yield server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=3.0) as client:
        yield client


# --- every payload file ----------------------------------------------------------------------------


def test_the_payload_directory_holds_exactly_the_files_tested_here() -> None:
    assert {p.name for p in PAYLOADS.glob("*.json")} == {
        "event_ticket_created.dust-example.json",
        "event_ticket_comment_added.dust-example.json",
        "event_user_active_changed.zendesk-docs-example.json",
        "trigger_custom_payload.zulip-fixture.json",
        "trigger_deskguard_template.example.json",
    }
    readme = (PAYLOADS / "README.md").read_text()
    assert all(p.name in readme for p in PAYLOADS.glob("*.json"))


def test_ticket_created_event_parses_into_a_thin_ticket() -> None:
    payload = load("event_ticket_created.dust-example.json")
    detail = payload["detail"]
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ref == detail["id"]
    assert parsed.ticket is not None
    assert parsed.ticket.ticket_id == detail["id"]
    assert parsed.ticket.subject == detail["subject"]
    assert parsed.ticket.messages[-1].author == "requester"
    assert parsed.ticket.messages[-1].body == detail["description"]
    assert parsed.ticket.tags == detail["tags"]
    assert parsed.ticket.channel == "api"  # via.channel web_service is the API
    assert parsed.ticket.requester.email == ""  # thin: complete() fetches it
    assert parsed.lookup["requester_id"] == detail["requester_id"]
    assert not parsed.lookup["fetch_comments"]


def test_comment_added_by_an_agent_is_ignored() -> None:
    payload = load("event_ticket_comment_added.dust-example.json")
    assert payload["event"]["comment"]["author"]["is_staff"] is True
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ticket is None
    assert parsed.ref == payload["detail"]["id"]
    assert "agent" in parsed.ignored


def test_comment_added_by_the_requester_is_assessed() -> None:
    payload = requester_comment(load("event_ticket_comment_added.dust-example.json"))
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ticket is not None
    assert parsed.ref == payload["detail"]["id"]
    assert parsed.ticket.messages[-1].body == payload["event"]["comment"]["body"]
    assert parsed.ticket.tags == payload["detail"]["tags"]
    assert parsed.lookup["requester_id"] == payload["detail"]["requester_id"]


def test_an_event_type_deskguard_does_not_assess_is_ignored() -> None:
    payload = load("event_user_active_changed.zendesk-docs-example.json")
    parsed = ADAPTER.parse(payload, config())
    assert parsed == Parsed("", None, ignored=f"event type {payload['type']} is not assessed")


def test_the_trigger_template_payload_parses_with_the_requester() -> None:
    payload = load("trigger_deskguard_template.example.json")
    parsed = ADAPTER.parse(payload, config())
    ticket = payload["ticket"]
    assert parsed.ref == ticket["id"]
    assert parsed.ticket is not None
    assert parsed.ticket.subject == ticket["subject"]
    assert parsed.ticket.messages[-1].body == ticket["latest_public_comment"]["value"]
    assert parsed.ticket.requester.email == ticket["requester"]["email"]
    assert parsed.ticket.requester.phone == ticket["requester"]["phone"]
    assert parsed.ticket.requester.name == ticket["requester"]["name"]
    assert parsed.ticket.requester.external_id == ticket["requester"]["external_id"]
    assert parsed.ticket.requester.authenticated is False
    assert parsed.ticket.tags == ticket["tags"].split()
    assert parsed.ticket.channel == "email"  # {{ticket.via}} "Mail"
    assert parsed.lookup == {}


def test_an_admin_written_trigger_body_is_refused_with_what_to_paste() -> None:
    payload = load("trigger_custom_payload.zulip-fixture.json")
    with pytest.raises(PayloadError) as caught:
        ADAPTER.parse(payload, config())
    assert caught.value.code == "payload_invalid"
    assert "deskguard" in caught.value.message.lower()
    assert "guide" in caught.value.message


# --- ignored deliveries ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda c, d: c.update(is_public=False), "private"),
        (lambda c, d: c["author"].update(id="123", is_staff=False), "not written by the requester"),
        (lambda c, d: c["author"].update(is_staff=True), "agent"),
        (lambda c, d: c.update(body=f"Deskguard: High risk\n{NOTE_MARKER_PREFIX}a-9"), "Deskguard"),
    ],
)
def test_comment_events_that_are_not_new_requester_text_are_ignored(change: Any, why: str) -> None:
    payload = requester_comment(load("event_ticket_comment_added.dust-example.json"))
    change(payload["event"]["comment"], payload["detail"])
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ticket is None
    assert why in parsed.ignored


def test_a_ticket_created_with_only_a_private_comment_is_ignored() -> None:
    payload = load("event_ticket_created.dust-example.json")
    payload["detail"]["is_public"] = False
    assert ADAPTER.parse(payload, config()).ticket is None


def test_other_ticket_events_such_as_tag_changes_are_ignored() -> None:
    payload = load("event_ticket_created.dust-example.json")
    payload["type"] = "zen:event-type:ticket.tags_changed"
    payload["event"] = {"tags_added": ["deskguard-high"], "tags_removed": []}
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ticket is None
    assert parsed.ref == payload["detail"]["id"]


@pytest.mark.parametrize(
    ("path", "value", "why"),
    [
        (("current_user", "role"), "agent", "agent"),
        (("current_user", "role"), "Admin", "agent"),
        (("current_user", "id"), "555", "someone other than the requester"),
        (("current_user", "id"), "", "no current user"),
        (("ticket", "latest_public_comment", "author_id"), "555", "not the requester's"),
        (("ticket", "latest_public_comment", "value"), f"echo {NOTE_MARKER_PREFIX}a-1", "Deskguard"),
        (("ticket", "latest_public_comment", "value"), "", "no public comment"),
    ],
)
def test_trigger_deliveries_that_are_not_new_requester_text_are_ignored(
    path: tuple[str, ...], value: str, why: str
) -> None:
    payload = load("trigger_deskguard_template.example.json")
    node = payload
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ticket is None
    assert parsed.ref == payload["ticket"]["id"]
    assert why in parsed.ignored


# --- malformed payloads ----------------------------------------------------------------------------------


def _set(payload: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    node = payload
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return payload


_DELETE = object()


@pytest.mark.parametrize(
    ("name", "path", "value"),
    [
        ("event_ticket_created.dust-example.json", "detail", _DELETE),
        ("event_ticket_created.dust-example.json", "detail", ["not", "an", "object"]),
        ("event_ticket_created.dust-example.json", "detail.id", _DELETE),
        ("event_ticket_created.dust-example.json", "detail.id", {"id": 1}),
        ("event_ticket_created.dust-example.json", "detail.id", True),
        ("event_ticket_created.dust-example.json", "detail.requester_id", _DELETE),
        ("event_ticket_created.dust-example.json", "detail.requester_id", "../../admin"),
        ("event_ticket_created.dust-example.json", "detail.description", ["text"]),
        ("event_ticket_created.dust-example.json", "detail.is_public", "yes"),
        ("event_ticket_created.dust-example.json", "detail.tags", [1, 2]),
        ("event_ticket_created.dust-example.json", "detail.tags", {"a": 1}),
        ("event_ticket_created.dust-example.json", "detail.via", "web"),
        ("event_ticket_created.dust-example.json", "detail.subject", ["subject"]),
        ("event_ticket_comment_added.dust-example.json", "event", _DELETE),
        ("event_ticket_comment_added.dust-example.json", "event.comment", "text"),
        ("event_ticket_comment_added.dust-example.json", "event.comment.is_public", _DELETE),
        ("event_ticket_comment_added.dust-example.json", "event.comment.is_public", 1),
        ("event_ticket_comment_added.dust-example.json", "event.comment.author", ["agent"]),
        ("event_ticket_comment_added.dust-example.json", "event.comment.author.is_staff", "false"),
        ("trigger_deskguard_template.example.json", "deskguard", "zendesk-trigger/0"),
        ("trigger_deskguard_template.example.json", "ticket", _DELETE),
        ("trigger_deskguard_template.example.json", "ticket.id", _DELETE),
        ("trigger_deskguard_template.example.json", "ticket.id", "{{ticket.id}}"),
        ("trigger_deskguard_template.example.json", "current_user", _DELETE),
        ("trigger_deskguard_template.example.json", "current_user", "end-user"),
        ("trigger_deskguard_template.example.json", "ticket.requester", "ana@example.com"),
        ("trigger_deskguard_template.example.json", "ticket.requester.email", {"primary": "x"}),
        ("trigger_deskguard_template.example.json", "ticket.latest_public_comment", "hello"),
        ("trigger_deskguard_template.example.json", "ticket.latest_public_comment.value", {"text": "hi"}),
    ],
)
def test_malformed_payloads_are_payload_errors(name: str, path: str, value: Any) -> None:
    payload = load(name)
    if name == "event_ticket_comment_added.dust-example.json":
        payload = requester_comment(payload)
    _set(payload, path, value)
    with pytest.raises(PayloadError):
        ADAPTER.parse(payload, config())


def _leaves(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _leaves(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*prefix, index)
            yield from _leaves(value, (*prefix, index))


@pytest.mark.parametrize("name", sorted(p.name for p in PAYLOADS.glob("*.json")))
def test_any_wrong_type_anywhere_is_a_payload_error_never_a_crash(name: str) -> None:
    original = load(name)
    wrong_values: list[Any] = [None, True, 7, 1.5, "text", [], ["x", 1], {}, {"k": "v"}]
    for path in _leaves(original):
        for wrong in wrong_values:
            payload = copy.deepcopy(original)
            node: Any = payload
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = wrong
            try:
                result = ADAPTER.parse(payload, config())
            except PayloadError:
                continue
            assert isinstance(result, Parsed)


def test_an_over_long_subject_is_clipped_not_a_crash() -> None:
    payload = load("trigger_deskguard_template.example.json")
    payload["ticket"]["subject"] = "x" * 5_000
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ticket is not None
    assert len(parsed.ticket.subject) == 2_000


# --- signatures ----------------------------------------------------------------------------------------


def test_a_signature_computed_as_zendesk_documents_is_accepted() -> None:
    now = time.time()
    body = (PAYLOADS / "event_ticket_created.dust-example.json").read_bytes()
    ADAPTER.verify(signed(body, now), config(), now)


def test_the_signature_covers_timestamp_then_body_with_no_separator() -> None:
    now = time.time()
    body = b'{"say": "hello"}'
    request = signed(body, now)
    swapped = dict(request.headers)
    timestamp = swapped["x-zendesk-webhook-signature-timestamp"]
    mac = hmac.new(SECRET.encode(), body + timestamp.encode(), hashlib.sha256).digest()
    swapped["x-zendesk-webhook-signature"] = base64.b64encode(mac).decode()
    with pytest.raises(SignatureError) as caught:
        ADAPTER.verify(InboundRequest(body=body, headers=swapped), config(), now)
    assert caught.value.code == "signature_invalid"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ("tamper", "signature_invalid"),
        ("wrong_secret", "signature_invalid"),
        ("hex_digest", "signature_invalid"),
        ("stale", "timestamp_stale"),
        ("future", "timestamp_stale"),
        ("no_signature", "signature_missing"),
        ("no_timestamp", "signature_missing"),
        ("bad_timestamp", "signature_invalid"),
        ("no_secret", "secret_invalid"),
    ],
)
def test_bad_signatures_are_refused_with_their_code(change: str, code: str) -> None:
    now = time.time()
    body = (PAYLOADS / "trigger_deskguard_template.example.json").read_bytes()
    request = signed(body, now - 600 if change == "stale" else now + 600 if change == "future" else now)
    headers = dict(request.headers)
    cfg = config()
    if change == "tamper":
        body = body.replace(b"35436", b"35437")
    elif change == "wrong_secret":
        headers["x-zendesk-webhook-signature"] = zendesk_signature("not-the-secret", iso(now), body)
    elif change == "hex_digest":
        headers["x-zendesk-webhook-signature"] = hmac.new(
            SECRET.encode(), iso(now).encode() + body, hashlib.sha256
        ).hexdigest()
    elif change == "no_signature":
        del headers["x-zendesk-webhook-signature"]
    elif change == "no_timestamp":
        del headers["x-zendesk-webhook-signature-timestamp"]
    elif change == "bad_timestamp":
        headers["x-zendesk-webhook-signature-timestamp"] = "yesterday"
    elif change == "no_secret":
        cfg = config(secret="")
    with pytest.raises(SignatureError) as caught:
        ADAPTER.verify(InboundRequest(body=body, headers=headers), cfg, now)
    assert caught.value.code == code


def test_the_second_webhooks_secret_is_accepted_when_configured() -> None:
    now = time.time()
    body = (PAYLOADS / "trigger_deskguard_template.example.json").read_bytes()
    request = signed(body, now, secret="trigger-webhook-secret")
    with pytest.raises(SignatureError):
        ADAPTER.verify(request, config(), now)
    cfg = config(credentials={**CREDENTIALS, "second_signing_secret": "trigger-webhook-secret"})
    ADAPTER.verify(request, cfg, now)


def test_delivery_id_is_the_invocation_then_the_event_id_then_the_body() -> None:
    now = time.time()
    payload = load("event_ticket_created.dust-example.json")
    body = json.dumps(payload).encode()
    request = signed(body, now)
    assert ADAPTER.delivery_id(request, payload) == "zendesk-invocation:01F1KRFQ6BG29CNWFR60NK5FNY:8350205582"
    bare = InboundRequest(body=body, headers={k: v for k, v in request.headers.items() if "invocation" not in k})
    assert ADAPTER.delivery_id(bare, payload) == f"zendesk-event:{payload['id']}"
    trigger = load("trigger_deskguard_template.example.json")
    trigger_body = json.dumps(trigger).encode()
    assert ADAPTER.delivery_id(InboundRequest(body=trigger_body, headers={}), trigger) == body_digest(trigger_body)


# --- completing thin events over the API ----------------------------------------------------------------


def test_complete_fetches_the_requesters_contacts(fake: Fake, http: httpx.Client) -> None:
    fake.add_ticket("5158", sample_ticket("5158"))
    payload = load("event_ticket_created.dust-example.json")
    payload["detail"]["requester_id"] = str(fake.requester_id("5158"))
    cfg = config(fake.base_url)
    parsed = ADAPTER.complete(ADAPTER.parse(payload, cfg), ADAPTER.connect(cfg, http))
    assert parsed.ticket is not None
    user = fake.users[fake.requester_id("5158")]
    assert parsed.ticket.requester.email == user["email"]
    assert parsed.ticket.requester.phone == user["phone"]
    assert parsed.ticket.requester.name == user["name"]
    assert parsed.ticket.requester.external_id == user["external_id"]
    assert parsed.ticket.requester.authenticated is False
    assert parsed.ticket.messages[-1].body == payload["detail"]["description"]
    assert fake.sent("GET", r"/api/v2/users/\d+\.json")


def test_complete_reads_the_conversation_when_the_event_has_no_text(fake: Fake, http: httpx.Client) -> None:
    ticket = sample_ticket("5158")
    fake.add_ticket("5158", ticket)
    fake.add_comment("5158", AGENT_ID, "internal: check this one", public=False)
    payload = requester_comment(load("event_ticket_comment_added.dust-example.json"), body="")
    payload["detail"]["requester_id"] = str(fake.requester_id("5158"))
    payload["event"]["comment"]["author"]["id"] = payload["detail"]["requester_id"]
    cfg = config(fake.base_url)
    parsed = ADAPTER.parse(payload, cfg)
    assert parsed.lookup["fetch_comments"]
    done = ADAPTER.complete(parsed, ADAPTER.connect(cfg, http))
    assert done.ticket is not None
    assert [(m.author, m.body) for m in done.ticket.messages] == [(m.author, m.body) for m in ticket.messages]
    assert done.ticket.requester.email == ticket.requester.email


def test_complete_without_the_user_still_assesses_what_the_event_says(fake: Fake, http: httpx.Client) -> None:
    payload = load("event_ticket_created.dust-example.json")  # its requester does not exist in the fake
    cfg = config(fake.base_url)
    parsed = ADAPTER.complete(ADAPTER.parse(payload, cfg), ADAPTER.connect(cfg, http))
    assert parsed.ticket is not None
    assert parsed.ticket.requester.email == ""
    assert parsed.ticket.messages[-1].body == payload["detail"]["description"]
    assert fake.sent("GET", rf"/api/v2/users/{payload['detail']['requester_id']}\.json")


@pytest.mark.parametrize("status", [429, 500, 401])
def test_complete_fails_for_the_vendor_to_retry_when_the_api_does(fake: Fake, http: httpx.Client, status: int) -> None:
    payload = load("event_ticket_created.dust-example.json")
    cfg = config(fake.base_url)
    fake.fail_next(status)
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.complete(ADAPTER.parse(payload, cfg), ADAPTER.connect(cfg, http))
    assert caught.value.status == status


# --- write-back ----------------------------------------------------------------------------------------


def test_write_back_adds_one_private_note_tags_and_the_field(fake: Fake, http: httpx.Client) -> None:
    fake.add_ticket("5158", sample_ticket("5158"))
    cfg = config(fake.base_url)
    note = make_note("high")
    ADAPTER.write_back(ADAPTER.connect(cfg, http), "5158", note, cfg)
    notes = fake.notes("5158")
    assert len(notes) == 1
    assert note.marker in notes[0]
    assert fake.tags("5158") == {"vip", "deskguard", "deskguard-high"}  # deskguard-low was stale
    assert fake.field_value("5158") == "high"
    [created] = fake.sent("PUT", r"/api/v2/tickets/5158\.json")
    assert created.json() == {"ticket": {"comment": {"html_body": note.html, "public": False}}}
    assert re.search(NOTE_REQUEST, "PUT /api/v2/tickets/5158.json")
    assert not re.search(NOTE_REQUEST, "PUT /api/v2/tickets/5158")  # the field request
    [field] = fake.sent("PUT", r"/api/v2/tickets/5158")
    assert field.json() == {"ticket": {"custom_fields": [{"id": int(FIELD_ID), "value": "high"}]}}
    assert all(r.headers["authorization"].startswith("Basic ") for r in fake.requests)


def test_write_back_twice_still_writes_one_note(fake: Fake, http: httpx.Client) -> None:
    fake.add_ticket("5158", sample_ticket("5158"))
    cfg = config(fake.base_url)
    api = ADAPTER.connect(cfg, http)
    ADAPTER.write_back(api, "5158", make_note("critical"), cfg)
    ADAPTER.write_back(api, "5158", make_note("critical"), cfg)
    assert len(fake.notes("5158")) == 1
    assert fake.tags("5158") == {"vip", "deskguard", "deskguard-critical"}
    assert len(fake.sent("PUT", r"/api/v2/tickets/5158\.json")) == 1


def test_a_later_assessment_moves_the_level_tag_and_adds_its_own_note(fake: Fake, http: httpx.Client) -> None:
    fake.add_ticket("5158", sample_ticket("5158"))
    cfg = config(fake.base_url)
    api = ADAPTER.connect(cfg, http)
    ADAPTER.write_back(api, "5158", make_note("high", "asmt-1"), cfg)
    ADAPTER.write_back(api, "5158", make_note("medium", "asmt-2"), cfg)
    assert len(fake.notes("5158")) == 2
    assert fake.tags("5158") == {"vip", "deskguard", "deskguard-medium"}
    assert fake.field_value("5158") == "medium"


def test_a_lost_note_response_is_retryable_and_the_retry_writes_no_second_note(fake: Fake) -> None:
    fake.add_ticket("5158", sample_ticket("5158"))
    cfg = config(fake.base_url)
    fake.hang_next(seconds=10, match=NOTE_REQUEST, after=True)
    with httpx.Client(timeout=0.5) as short, pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(ADAPTER.connect(cfg, short), "5158", make_note(), cfg)
    assert caught.value.retryable
    assert len(fake.notes("5158")) == 1  # stored before the response was lost
    fake.release.set()
    with httpx.Client(timeout=3.0) as client:
        ADAPTER.write_back(ADAPTER.connect(cfg, client), "5158", make_note(), cfg)
    assert len(fake.notes("5158")) == 1
    assert "deskguard-high" in fake.tags("5158")


def test_the_marker_is_found_on_a_later_page_of_comments(fake: Fake, http: httpx.Client) -> None:
    fake.add_ticket("5158", sample_ticket("5158"))
    cfg = config(fake.base_url)
    api = ADAPTER.connect(cfg, http)
    ADAPTER.write_back(api, "5158", make_note(), cfg)
    for i in range(150):  # newer comments push the note to the second page (newest first)
        fake.add_comment("5158", fake.requester_id("5158"), f"follow-up {i}")
    ADAPTER.write_back(api, "5158", make_note(), cfg)
    assert len(fake.notes("5158")) == 1
    pages = fake.sent("GET", r"/api/v2/tickets/5158/comments\.json")
    assert any(r.query.get("page[after]") for r in pages)
    assert all(r.query["sort"] == ["-created_at"] and r.query["page[size]"] == ["100"] for r in pages)


def test_pagination_is_bounded(fake: Fake, http: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zendesk, "MAX_COMMENT_PAGES", 2)
    fake.add_ticket("5158", sample_ticket("5158"))
    for i in range(350):
        fake.add_comment("5158", fake.requester_id("5158"), f"comment {i}")
    cfg = config(fake.base_url)
    ADAPTER.write_back(ADAPTER.connect(cfg, http), "5158", make_note(), cfg)
    assert len(fake.sent("GET", r"/api/v2/tickets/5158/comments\.json")) == 2


def test_429_is_retryable_with_retry_after(fake: Fake, http: httpx.Client) -> None:
    fake.add_ticket("5158", sample_ticket("5158"))
    cfg = config(fake.base_url)
    fake.fail_next(429, headers={"Retry-After": "17"})
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(ADAPTER.connect(cfg, http), "5158", make_note(), cfg)
    assert caught.value.retryable
    assert caught.value.retry_after == 17
    assert caught.value.status == 429
    assert fake.notes("5158") == []


def test_500_is_retryable(fake: Fake, http: httpx.Client) -> None:
    fake.add_ticket("5158", sample_ticket("5158"))
    cfg = config(fake.base_url)
    fake.fail_next(500, match=NOTE_REQUEST)
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(ADAPTER.connect(cfg, http), "5158", make_note(), cfg)
    assert caught.value.retryable
    assert caught.value.status == 500


def test_wrong_credentials_are_a_permanent_401(fake: Fake, http: httpx.Client) -> None:
    fake.add_ticket("5158", sample_ticket("5158"))
    cfg = config(fake.base_url, credentials={**CREDENTIALS, "api_token": "revoked"})
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(ADAPTER.connect(cfg, http), "5158", make_note(), cfg)
    assert caught.value.status == 401
    assert not caught.value.retryable
    assert fake.notes("5158") == []


def test_missing_credentials_fail_before_any_request(fake: Fake, http: httpx.Client) -> None:
    cfg = config(fake.base_url, credentials={"subdomain": "acme"})
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.connect(cfg, http)
    assert not caught.value.retryable
    assert fake.requests == []


def test_a_non_numeric_custom_field_option_is_a_permanent_error(fake: Fake, http: httpx.Client) -> None:
    fake.add_ticket("5158", sample_ticket("5158"))
    cfg = config(fake.base_url, options={"custom_field": "risk level"})
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(ADAPTER.connect(cfg, http), "5158", make_note(), cfg)
    assert not caught.value.retryable
    assert len(fake.notes("5158")) == 1  # the note and tags went first


def test_no_custom_field_option_sets_no_field(fake: Fake, http: httpx.Client) -> None:
    fake.add_ticket("5158", sample_ticket("5158"))
    cfg = config(fake.base_url, options={})
    ADAPTER.write_back(ADAPTER.connect(cfg, http), "5158", make_note(), cfg)
    assert fake.field_value("5158") is None
    assert fake.sent("PUT", r"/api/v2/tickets/5158") == []


@pytest.mark.parametrize("ref", ["../users/1", "5158/tags", "", "a b"])
def test_a_ref_that_is_not_one_path_segment_is_refused_without_a_request(
    fake: Fake, http: httpx.Client, ref: str
) -> None:
    cfg = config(fake.base_url)
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(ADAPTER.connect(cfg, http), ref, make_note(), cfg)
    assert not caught.value.retryable
    assert fake.requests == []


# --- check, sample, setup ------------------------------------------------------------------------------


def test_check_reports_the_agent(fake: Fake, http: httpx.Client) -> None:
    assert ADAPTER.check(ADAPTER.connect(config(fake.base_url), http)) == f"authenticated as agent {AGENT_ID}"
    assert [r.path for r in fake.requests] == ["/api/v2/users/me.json"]


def test_check_refuses_an_end_user_token(fake: Fake, http: httpx.Client) -> None:
    fake.me_role = "end-user"
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.check(ADAPTER.connect(config(fake.base_url), http))
    assert not caught.value.retryable


def test_check_with_wrong_credentials_is_401(fake: Fake, http: httpx.Client) -> None:
    cfg = config(fake.base_url, credentials={**CREDENTIALS, "email": "someone@else.example"})
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.check(ADAPTER.connect(cfg, http))
    assert caught.value.status == 401
    assert not caught.value.retryable


def test_sample_is_signed_and_parses_back_to_the_ticket() -> None:
    now = time.time()
    ticket = sample_ticket("deskguard-test-1700000000")
    cfg = config()
    request = ADAPTER.sample(cfg, ticket, now)
    ADAPTER.verify(request, cfg, now)
    timestamp = request.headers["x-zendesk-webhook-signature-timestamp"]
    assert request.headers["x-zendesk-webhook-signature"] == zendesk_signature(SECRET, timestamp, request.body)
    parsed = ADAPTER.parse(json.loads(request.body), cfg)
    assert parsed.ref == ticket.ticket_id
    assert parsed.ticket is not None
    assert parsed.ticket.messages[-1].body == ticket.messages[-1].body
    assert parsed.ticket.requester.email == ticket.requester.email
    assert parsed.ticket.channel == ticket.channel
    assert parsed.ticket.tags == ticket.tags
    assert ADAPTER.delivery_id(request, json.loads(request.body)).startswith("zendesk-invocation:")


def test_sample_through_complete_and_write_back_against_the_fake(fake: Fake, http: httpx.Client) -> None:
    ticket = sample_ticket("5158")
    fake.add_ticket(ticket.ticket_id, ticket)
    cfg = config(fake.base_url)
    request = ADAPTER.sample(cfg, ticket, time.time())
    api = ADAPTER.connect(cfg, http)
    parsed = ADAPTER.complete(ADAPTER.parse(json.loads(request.body), cfg), api)
    assert parsed.ticket is not None
    assert parsed.ticket.requester.email == ticket.requester.email
    note = make_note("medium")
    ADAPTER.write_back(api, parsed.ref, note, cfg)
    assert len(fake.notes(parsed.ref)) == 1
    assert "deskguard-medium" in fake.tags(parsed.ref)


@pytest.mark.parametrize(
    ("subdomain", "url"),
    [
        ("acme", "https://acme.zendesk.com"),
        ("Acme.zendesk.com", "https://acme.zendesk.com"),
        ("https://acme-eu.zendesk.com/agent", "https://acme-eu.zendesk.com"),
        ("acme.evil.example/x", ""),
        ("under_score", ""),
        ("", ""),
    ],
)
def test_base_url_comes_from_the_subdomain(subdomain: str, url: str) -> None:
    assert ADAPTER.base_url({"subdomain": subdomain}) == url


@pytest.mark.parametrize(
    ("via", "channel"),
    [
        ("Mail", "email"),
        ("Web form", "web"),
        ("Web Widget", "web"),
        ("Web service", "api"),
        ("Phone call (incoming)", "phone"),
        ("Voicemail", "phone"),
        ("Chat", "chat"),
        ("Facebook Messenger", "social"),
        ("WhatsApp", "social"),
    ],
)
def test_rendered_via_names_map_to_channels(via: str, channel: str) -> None:
    assert zendesk.channel_of_via(via) == channel


def test_setup_steps_name_the_webhook_url_and_the_secret() -> None:
    steps = ADAPTER.setup_steps(config(), "https://deskguard.example/v1/hooks/zendesk/zd-1")
    text = "\n".join(steps)
    assert "https://deskguard.example/v1/hooks/zendesk/zd-1" in text
    assert "zen:event-type:ticket.created" in text
    assert "Signing secret" in text
    assert ADAPTER.signing_key_from == "vendor"
    assert {f.name for f in ADAPTER.credential_fields} == {
        *CREDENTIALS, "second_signing_secret", "zendesk_app_public_key", "banner_app_secret"
    }


def test_the_guide_shows_exactly_the_template_the_adapter_parses() -> None:
    guide = GUIDE.read_text()
    assert zendesk.template_json() in guide
    placeholders = set(re.findall(r"\{\{([a-z_.]+)\}\}", zendesk.template_json()))
    assert placeholders == {
        "ticket.id",
        "ticket.title",
        "ticket.via",
        "ticket.tags",
        "ticket.requester.id",
        "ticket.requester.name",
        "ticket.requester.email",
        "ticket.requester.phone",
        "ticket.requester.external_id",
        "ticket.latest_public_comment.author.id",
        "ticket.latest_public_comment.value",
        "current_user.id",
        "current_user.role",
    }
    for code in (
        "signature_missing",
        "signature_invalid",
        "timestamp_stale",
        "secret_invalid",
        "ip_not_allowed",
        "payload_invalid",
        "payload_not_json",
        "integration_not_found",
        "integration_disabled",
        "helpdesk_unavailable",
    ):
        assert code in guide
