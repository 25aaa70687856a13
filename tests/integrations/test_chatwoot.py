"""Chatwoot adapter: signature, parsing, ignored events, write-back against the fake."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.ticket import Message, Requester, Ticket
from integrations.chatwoot import ADAPTER
from integrations.http import WriteBackError
from integrations.payload import NOTE_MARKER_PREFIX, dig
from integrations.protocol import InboundRequest, IntegrationConfig, Note, Parsed, PayloadError, SignatureError
from tests.integrations.fakes import chatwoot as fake_chatwoot

PAYLOADS = Path(__file__).parent / "payloads" / "chatwoot"
SECRET = "cw-webhook-secret-XYZ"
NOW = 1_760_000_000.0
REF = "42"

EXPECT = {
    "message_created.chatwoot-docs.json": "assess",
    "message_created_email_verified.composed.json": "assess",
    "conversation_created.composed.json": "assess",
    "message_updated.chatwoot-docs.json": "ignored",
    "conversation_status_changed.chatwoot-docs.json": "ignored",
    "message_created_outgoing.composed.json": "ignored",
    "message_created_private_note.composed.json": "ignored",
}


def config(secret: str = SECRET, base: str = "https://app.chatwoot.com", **options: str) -> IntegrationConfig:
    return IntegrationConfig(
        id="int-cw",
        tenant_id="acme",
        provider="chatwoot",
        secret=secret,
        credentials=dict(fake_chatwoot.CREDENTIALS),
        api_base_url=base,
        options=options,
    )


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return data


def signature(secret: str, body: bytes, timestamp: str) -> str:
    """Chatwoot's documented scheme, written out independently of the adapter."""
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signed(body: bytes, secret: str = SECRET, when: float = NOW, delivery: str = "") -> InboundRequest:
    ts = str(int(when))
    headers = {"x-chatwoot-signature": signature(secret, body, ts), "x-chatwoot-timestamp": ts}
    if delivery:
        headers["x-chatwoot-delivery"] = delivery
    return InboundRequest(body=body, headers=headers)


def make_note(level: str = "high", assessment: str = "a-1") -> Note:
    marker = f"{NOTE_MARKER_PREFIX}{assessment}"
    levels = ("low", "medium", "high", "critical")
    return Note(
        assessment_id=assessment,
        marker=marker,
        level=level,
        score=82,
        headline="Asks to send a refund to a new card",
        reasons=("Payment instrument change",),
        steps=("Verify the card on file",),
        forbidden=("Do not refund to a new card from chat",),
        tags=("deskguard", f"deskguard-{level}"),
        stale_tags=tuple(f"deskguard-{other}" for other in levels if other != level),
        text=f"Deskguard: High risk (82/100)\n\n{marker}",
        html=f"<p>Deskguard</p><p><small>{marker}</small></p>",
    )


def ticket(ref: str = REF, body: str = "Refund me to this new card please") -> Ticket:
    return Ticket(
        ticket_id=ref,
        channel="chat",
        subject="",
        messages=[Message(author="requester", body=body)],
        requester=Requester(name="Jane", email="jane@acme.inc"),
        tags=["billing"],
    )


@pytest.fixture
def fake() -> Iterator[fake_chatwoot.Fake]:
    with fake_chatwoot.Fake() as server:
        server.add_ticket(REF, ticket())
        yield server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=2.0) as client:
        yield client


def api_for(fake: fake_chatwoot.Fake, http: httpx.Client, **credentials: str) -> Any:
    creds = {**fake_chatwoot.CREDENTIALS, **credentials}
    cfg = IntegrationConfig(
        id="int-cw",
        tenant_id="acme",
        provider="chatwoot",
        secret=SECRET,
        credentials=creds,
        api_base_url=fake.base_url,
        options=dict(fake_chatwoot.OPTIONS),
    )
    return ADAPTER.connect(cfg, http), cfg


# --- payload files ------------------------------------------------------------------------


def test_every_payload_file_is_listed() -> None:
    assert sorted(p.name for p in PAYLOADS.glob("*.json")) == sorted(EXPECT)


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_payload_file_parses(name: str) -> None:
    payload = load(name)
    parsed = ADAPTER.parse(payload, config())
    assert isinstance(parsed, Parsed)
    if EXPECT[name] == "ignored":
        assert parsed.ticket is None and parsed.ignored
        return
    assert parsed.ticket is not None
    conversation = payload if payload["event"] == "conversation_created" else payload["conversation"]
    assert parsed.ref == str(conversation["id"]) == parsed.ticket.ticket_id
    contact = conversation["meta"]["sender"]
    assert parsed.ticket.requester.name == contact["name"]
    assert parsed.ticket.requester.email == (contact["email"] or "")
    assert parsed.ticket.requester.phone == (contact["phone_number"] or "")
    assert parsed.ticket.requester.external_id == str(contact["identifier"] or contact["id"])
    assert parsed.ticket.requester.authenticated is conversation["contact_inbox"]["hmac_verified"]
    assert parsed.ticket.tags == conversation.get("labels", [])
    assert parsed.ticket.subject == (dig(conversation, "additional_attributes.mail_subject") or "")
    last = parsed.ticket.messages[-1]
    assert last.author == "requester"
    if payload["event"] == "message_created":
        assert last.body == payload["content"]
    else:
        incoming = [m for m in conversation["messages"] if m["message_type"] == 0]
        assert last.body == incoming[-1]["content"]


def test_channels_and_history_come_from_the_payload() -> None:
    widget = ADAPTER.parse(load("message_created.chatwoot-docs.json"), config()).ticket
    assert widget is not None and widget.channel == "chat"
    assert [m.body for m in widget.messages] == ["hi"]  # the template message (type 3) is not history
    payload = load("message_created_email_verified.composed.json")
    email = ADAPTER.parse(payload, config()).ticket
    assert email is not None and email.channel == "email"
    earlier = payload["conversation"]["messages"][0]
    assert [(m.author, m.body) for m in email.messages] == [
        ("agent", earlier["content"]),
        ("requester", payload["content"]),
    ]


def test_delivery_id() -> None:
    payload = load("message_created.chatwoot-docs.json")
    body = json.dumps(payload).encode()
    assert ADAPTER.delivery_id(signed(body, delivery="d-123"), payload) == "d-123"
    assert ADAPTER.delivery_id(signed(body), payload) == f"message_created:{payload['id']}"
    created = load("conversation_created.composed.json")
    assert ADAPTER.delivery_id(signed(b"{}"), created) == f"conversation_created:{created['id']}"
    assert ADAPTER.delivery_id(signed(b"{}"), {"event": ["x"]}) == ""


# --- signatures ---------------------------------------------------------------------------


def test_signature_computed_by_the_documented_algorithm_is_accepted() -> None:
    body = (PAYLOADS / "message_created.chatwoot-docs.json").read_bytes()
    ADAPTER.verify(signed(body), config(), NOW)
    ADAPTER.verify(signed(body, when=NOW - 200), config(), NOW)


def code_of(request: InboundRequest, cfg: IntegrationConfig, now: float = NOW) -> str:
    with pytest.raises(SignatureError) as caught:
        ADAPTER.verify(request, cfg, now)
    return caught.value.code


def test_signature_failures() -> None:
    body = (PAYLOADS / "message_created.chatwoot-docs.json").read_bytes()
    good = signed(body)
    assert code_of(InboundRequest(body=body.replace(b'"hi"', b'"ho"'), headers=good.headers), config()) == (
        "signature_invalid"
    )
    assert code_of(signed(body, secret="other"), config()) == "signature_invalid"
    assert code_of(signed(body, when=NOW - 301), config()) == "timestamp_stale"
    assert code_of(signed(body, when=NOW + 400), config()) == "timestamp_stale"
    assert code_of(InboundRequest(body=body, headers={}), config()) == "signature_missing"
    only_sig = InboundRequest(body=body, headers={"x-chatwoot-signature": good.headers["x-chatwoot-signature"]})
    assert code_of(only_sig, config()) == "signature_missing"
    assert code_of(good, config(secret="")) == "secret_invalid"
    moved = InboundRequest(body=body, headers={**good.headers, "x-chatwoot-timestamp": str(int(NOW) + 1)})
    assert code_of(moved, config()) == "signature_invalid"
    bare_hex = InboundRequest(
        body=body, headers={**good.headers, "x-chatwoot-signature": good.headers["x-chatwoot-signature"][7:]}
    )
    assert code_of(bare_hex, config()) == "signature_invalid"
    not_digits = InboundRequest(body=body, headers={**good.headers, "x-chatwoot-timestamp": "1e9"})
    assert code_of(not_digits, config()) == "signature_invalid"


# --- ignored and malformed deliveries ----------------------------------------------------


def test_incoming_text_with_deskguards_marker_is_ignored() -> None:
    payload = load("message_created.chatwoot-docs.json")
    payload["content"] = f"quoting {NOTE_MARKER_PREFIX}abc"
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ticket is None and "Deskguard" in parsed.ignored and parsed.ref == "10"


def test_private_activity_and_template_messages_are_ignored() -> None:
    base = load("message_created.chatwoot-docs.json")
    for change in (
        {"private": True},
        {"message_type": "activity"},
        {"message_type": "template"},
        {"message_type": 1},
        {"content": None},
        {"content": "   "},
    ):
        payload = {**copy.deepcopy(base), **change}
        assert ADAPTER.parse(payload, config()).ticket is None, change
    note = ADAPTER.parse(load("message_created_private_note.composed.json"), config())
    assert note.ignored == "a private note"
    assert ADAPTER.parse({"event": "contact_created", "id": 3}, config()).ignored


def test_conversation_created_without_a_contact_message_is_ignored() -> None:
    payload = load("conversation_created.composed.json")
    payload["messages"][0]["message_type"] = 2
    assert ADAPTER.parse(payload, config()).ticket is None
    payload["messages"] = []
    assert ADAPTER.parse(payload, config()).ticket is None


def test_missing_fields_raise_payload_error() -> None:
    base = load("message_created.chatwoot-docs.json")
    for mutate in (
        lambda p: p.pop("event"),
        lambda p: p.pop("conversation"),
        lambda p: p["conversation"].pop("id"),
        lambda p: p.pop("message_type"),
    ):
        payload = copy.deepcopy(base)
        mutate(payload)
        with pytest.raises(PayloadError):
            ADAPTER.parse(payload, config())
    created = load("conversation_created.composed.json")
    created.pop("id")
    with pytest.raises(PayloadError):
        ADAPTER.parse(created, config())


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("event", ["message_created"]),
        ("conversation", "10"),
        ("conversation.id", {"id": 10}),
        ("message_type", None),
        ("message_type", True),
        ("message_type", ["incoming"]),
        ("private", "no"),
        ("content", {"text": "hi"}),
        ("sender", "jane"),
        ("conversation.meta", []),
        ("conversation.meta.sender.email", ["a@b"]),
        ("conversation.labels", "vip"),
        ("conversation.labels", [1]),
        ("conversation.messages", {"id": 1}),
        ("conversation.messages", ["hi"]),
        ("conversation.messages.0.private", "yes"),
        ("conversation.id", "9" * 300),
    ],
)
def test_wrong_types_raise_payload_error(path: str, value: Any) -> None:
    payload = load("message_created.chatwoot-docs.json")
    *parents, last = path.split(".")
    node: Any = payload
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    with pytest.raises(PayloadError):
        ADAPTER.parse(payload, config())


def _mutations(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    for key, value in node.items() if isinstance(node, dict) else enumerate(node):
        for wrong in (None, 7, True, "x", [], {}, [1], {"k": "v"}, 1.5):
            if type(wrong) is not type(value):
                yield (*path, key), wrong
        if isinstance(value, dict | list):
            yield from _mutations(value, (*path, key))


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_any_wrong_type_anywhere_is_a_payload_error_or_a_parse(name: str) -> None:
    original = load(name)
    for path, wrong in _mutations(original):
        payload = copy.deepcopy(original)
        node: Any = payload
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = wrong
        with contextlib.suppress(PayloadError):  # the only acceptable failure
            ADAPTER.parse(payload, config())
        ADAPTER.delivery_id(InboundRequest(body=b"{}", headers={}), payload)


# --- sample round trip --------------------------------------------------------------------


@pytest.mark.parametrize("ref", ["42", "ZD-7", "007"])
def test_sample_is_signed_and_reads_back(ref: str) -> None:
    source = ticket(ref=ref, body="Hi!\n\nPlease refund to card 4111.")
    delivery = ADAPTER.sample(config(), source, NOW)
    ADAPTER.verify(delivery, config(), NOW)
    payload = json.loads(delivery.body)
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ref == ref and parsed.ticket is not None
    assert parsed.ticket.messages[-1].body == source.messages[-1].body
    assert parsed.ticket.requester.email == source.requester.email
    assert parsed.ticket.tags == source.tags
    assert ADAPTER.delivery_id(delivery, payload) == delivery.headers["x-chatwoot-delivery"]


# --- write-back ---------------------------------------------------------------------------


def test_write_back_writes_one_private_note_labels_and_attribute(fake: fake_chatwoot.Fake, http: httpx.Client) -> None:
    with fake.lock:
        fake.conversations[REF]["labels"].append("deskguard-low")
    api, cfg = api_for(fake, http)
    note = make_note()
    ADAPTER.write_back(api, REF, note, cfg)
    assert len(fake.notes(REF)) == 1 and note.marker in fake.notes(REF)[0]
    sent = fake.sent("POST", rf"/api/v1/accounts/{fake_chatwoot.ACCOUNT}/conversations/{REF}/messages")
    assert sent[0].json() == {"content": note.text, "message_type": "outgoing", "private": True}
    assert fake.tags(REF) == {"billing", "deskguard", "deskguard-high"}
    assert fake.field_value(REF) == "high"
    assert fake.conversations[REF]["custom_attributes"][fake_chatwoot.OTHER_FIELD] == "12345"
    for request in fake.requests:
        assert request.headers["api_access_token"] == fake_chatwoot.TOKEN


def test_write_back_twice_keeps_one_note_and_changes_nothing(fake: fake_chatwoot.Fake, http: httpx.Client) -> None:
    api, cfg = api_for(fake, http)
    note = make_note()
    ADAPTER.write_back(api, REF, note, cfg)
    ADAPTER.write_back(api, REF, note, cfg)
    assert len(fake.notes(REF)) == 1
    convo = rf"/api/v1/accounts/{fake_chatwoot.ACCOUNT}/conversations/{REF}"
    assert len(fake.sent("POST", convo + "/messages")) == 1
    assert len(fake.sent("POST", convo + "/labels")) == 1
    assert len(fake.sent("POST", convo + "/custom_attributes")) == 1


def test_a_new_level_replaces_the_old_label(fake: fake_chatwoot.Fake, http: httpx.Client) -> None:
    api, cfg = api_for(fake, http)
    ADAPTER.write_back(api, REF, make_note("high", "a-1"), cfg)
    ADAPTER.write_back(api, REF, make_note("low", "a-2"), cfg)
    assert len(fake.notes(REF)) == 2
    assert fake.tags(REF) == {"billing", "deskguard", "deskguard-low"}
    assert fake.field_value(REF) == "low"


def test_the_marker_is_found_on_an_older_page(fake: fake_chatwoot.Fake, http: httpx.Client) -> None:
    api, cfg = api_for(fake, http)
    note = make_note()
    ADAPTER.write_back(api, REF, note, cfg)
    fake.add_messages(REF, 45)  # the note is now three pages back
    ADAPTER.write_back(api, REF, note, cfg)
    assert len(fake.notes(REF)) == 1
    pages = fake.sent("GET", rf"/api/v1/accounts/{fake_chatwoot.ACCOUNT}/conversations/{REF}/messages")
    assert any("before" in r.query for r in pages)


def test_pagination_is_bounded(fake: fake_chatwoot.Fake, http: httpx.Client) -> None:
    fake.add_messages(REF, 500)
    api, cfg = api_for(fake, http)
    ADAPTER.write_back(api, REF, make_note(), cfg)
    pages = fake.sent("GET", rf"/api/v1/accounts/{fake_chatwoot.ACCOUNT}/conversations/{REF}/messages")
    assert len(pages) == 10
    assert len(fake.notes(REF)) == 1


def test_without_custom_field_option_no_attribute_call(fake: fake_chatwoot.Fake, http: httpx.Client) -> None:
    api, _ = api_for(fake, http)
    cfg = IntegrationConfig(
        id="i",
        tenant_id="t",
        provider="chatwoot",
        secret=SECRET,
        credentials=dict(fake_chatwoot.CREDENTIALS),
        api_base_url=fake.base_url,
    )
    ADAPTER.write_back(api, REF, make_note(), cfg)
    assert fake.sent("POST", r".*/custom_attributes") == []
    assert fake.field_value(REF) is None


def test_a_lost_note_response_is_not_written_twice(fake: fake_chatwoot.Fake) -> None:
    note = make_note()
    with httpx.Client(timeout=0.5) as short:
        api, cfg = api_for(fake, short)
        fake.hang_next(seconds=5, match=fake_chatwoot.NOTE_REQUEST, after=True)
        with pytest.raises(WriteBackError) as caught:
            ADAPTER.write_back(api, REF, note, cfg)
        assert caught.value.retryable
        ADAPTER.write_back(api, REF, note, cfg)
    assert len(fake.notes(REF)) == 1
    assert {"deskguard", "deskguard-high"} <= fake.tags(REF)


def test_rate_limit_is_retryable_with_retry_after(fake: fake_chatwoot.Fake, http: httpx.Client) -> None:
    api, cfg = api_for(fake, http)
    fake.fail_next(429, headers={"Retry-After": "12"})
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(api, REF, make_note(), cfg)
    assert caught.value.retryable and caught.value.retry_after == 12.0


def test_server_error_is_retryable(fake: fake_chatwoot.Fake, http: httpx.Client) -> None:
    api, cfg = api_for(fake, http)
    fake.fail_next(502, match=fake_chatwoot.NOTE_REQUEST)
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(api, REF, make_note(), cfg)
    assert caught.value.retryable and caught.value.status == 502
    assert fake.notes(REF) == []


@pytest.mark.parametrize("credentials", [{"api_access_token": "wrong"}, {"account_id": "8"}])
def test_wrong_credentials_are_a_permanent_401(
    fake: fake_chatwoot.Fake, http: httpx.Client, credentials: dict[str, str]
) -> None:
    api, cfg = api_for(fake, http, **credentials)
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(api, REF, make_note(), cfg)
    assert caught.value.status == 401 and not caught.value.retryable


def test_missing_credentials_fail_at_connect(http: httpx.Client) -> None:
    cfg = IntegrationConfig(
        id="i",
        tenant_id="t",
        provider="chatwoot",
        secret=SECRET,
        credentials={"api_access_token": "x"},
        api_base_url="https://app.chatwoot.com",
    )
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.connect(cfg, http)
    assert not caught.value.retryable


def test_unknown_conversation_is_permanent(fake: fake_chatwoot.Fake, http: httpx.Client) -> None:
    api, cfg = api_for(fake, http)
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(api, "999", make_note(), cfg)
    assert caught.value.status == 404 and not caught.value.retryable


def test_check_reads_the_profile(fake: fake_chatwoot.Fake, http: httpx.Client) -> None:
    api, _ = api_for(fake, http)
    assert ADAPTER.check(api) == "authenticated as agent Deskguard Bot (user 3)"
    bad, _ = api_for(fake, http, api_access_token="nope")
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.check(bad)
    assert caught.value.status == 401


def test_complete_returns_the_parse() -> None:
    parsed = ADAPTER.parse(load("message_created.chatwoot-docs.json"), config())
    assert ADAPTER.complete(parsed, None) is parsed  # type: ignore[arg-type]


# --- admin surface ------------------------------------------------------------------------


def test_admin_surface() -> None:
    assert ADAPTER.provider == "chatwoot" and ADAPTER.signing_key_from == "vendor"
    assert [f.name for f in ADAPTER.credential_fields] == list(fake_chatwoot.CREDENTIALS)
    assert ADAPTER.base_url({}) == "https://app.chatwoot.com"
    steps = ADAPTER.setup_steps(config(), "https://dg.example/v1/hooks/chatwoot/int-cw")
    assert any("https://dg.example/v1/hooks/chatwoot/int-cw" in step for step in steps)
