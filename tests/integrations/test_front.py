"""Front adapter: signatures (app and rule webhooks), parsing, thin events, write-back against the fake."""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.ticket import Message, Requester, Ticket
from integrations.front import ADAPTER
from integrations.http import WriteBackError
from integrations.payload import NOTE_MARKER_PREFIX, dig, html_to_text
from integrations.protocol import InboundRequest, IntegrationConfig, Note, Parsed, PayloadError, SignatureError
from tests.integrations.fakes import front as fake_front

PAYLOADS = Path(__file__).parent / "payloads" / "front"
SECRET = "front-app-secret-123"
NOW = 1_760_000_000.0
REF = "cnv_55c8c149"

# What each payload file is: assessed, ignored, or thin (needs complete()).
EXPECT = {
    "rule_webhook_inbound_message.zulip-fixture.json": "assess",
    "app_webhook_inbound_received.composed.json": "assess",
    "rule_webhook_inbound_preview.composed.json": "thin",
    "rule_webhook_out_reply.composed.json": "ignored",
    "rule_webhook_comment.composed.json": "ignored",
    "app_webhook_tag_added.composed.json": "ignored",
    "app_webhook_sync.front-docs.json": "ignored",
}


def config(secret: str = SECRET, base: str = "https://api2.frontapp.com", **options: str) -> IntegrationConfig:
    return IntegrationConfig(
        id="int-front",
        tenant_id="acme",
        provider="front",
        secret=secret,
        credentials=dict(fake_front.CREDENTIALS),
        api_base_url=base,
        options=options,
    )


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return data


def event_of(payload: dict[str, Any]) -> dict[str, Any]:
    inner = payload.get("payload", payload)
    assert isinstance(inner, dict)
    return inner


def app_signature(secret: str, body: bytes, timestamp: str) -> str:
    """Front's documented app-webhook scheme, written out independently of the adapter."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("utf-8") + b":" + body, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def rule_signature(secret: str, body: bytes) -> str:
    """Front's documented rule-webhook scheme: base64 HMAC-SHA1 of the body with the API secret."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha1).digest()).decode()


def app_request(body: bytes, secret: str = SECRET, timestamp: float = NOW) -> InboundRequest:
    ts = str(int(timestamp * 1000))
    return InboundRequest(
        body=body,
        headers={"x-front-signature": app_signature(secret, body, ts), "x-front-request-timestamp": ts},
    )


def rule_request(body: bytes, secret: str = SECRET) -> InboundRequest:
    return InboundRequest(body=body, headers={"x-front-signature": rule_signature(secret, body)})


def make_note(level: str = "high", assessment: str = "a-1") -> Note:
    marker = f"{NOTE_MARKER_PREFIX}{assessment}"
    levels = ("low", "medium", "high", "critical")
    return Note(
        assessment_id=assessment,
        marker=marker,
        level=level,
        score=82,
        headline="Asks to move the account to a new email",
        reasons=("New contact details",),
        steps=("Call back on the number on file",),
        forbidden=("Do not change the email from this ticket",),
        tags=("deskguard", f"deskguard-{level}"),
        stale_tags=tuple(f"deskguard-{other}" for other in levels if other != level),
        text=f"Deskguard: High risk (82/100)\nAsks to move the account\n\n{marker}",
        html=f"<p>Deskguard</p><p><small>{marker}</small></p>",
    )


def ticket(ref: str = REF, body: str = "Please change my email to x@evil.test today") -> Ticket:
    return Ticket(
        ticket_id=ref,
        channel="email",
        subject="Urgent: email change",
        messages=[Message(author="requester", body=body)],
        requester=Requester(name="Calculon", email="calculon@momsbot.com"),
    )


@pytest.fixture
def fake() -> Iterator[fake_front.Fake]:
    with fake_front.Fake() as server:
        server.add_ticket(REF, ticket())
        yield server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=2.0) as client:
        yield client


def api_for(fake: fake_front.Fake, http: httpx.Client, token: str = fake_front.TOKEN) -> Any:
    cfg = IntegrationConfig(
        id="int-front",
        tenant_id="acme",
        provider="front",
        secret=SECRET,
        credentials={"api_token": token},
        api_base_url=fake.base_url,
        options=dict(fake_front.OPTIONS),
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
    event = event_of(payload)
    conversation_id = dig(event, "conversation.id")
    assert parsed.ref == conversation_id
    assert parsed.ticket is not None and parsed.ticket.ticket_id == conversation_id
    assert parsed.ticket.subject == dig(event, "conversation.subject")
    if EXPECT[name] == "thin":
        assert parsed.lookup == {"message_id": dig(event, "target.data.id")}
        assert parsed.ticket.messages == []
        return
    message = dig(event, "target.data")
    assert parsed.ticket.messages[-1].author == "requester"
    assert parsed.ticket.messages[-1].body == message["text"].strip()
    assert parsed.ticket.messages[-1].body == html_to_text(message["body"])
    sender = next(r for r in message["recipients"] if r["role"] == "from")
    assert parsed.ticket.requester.email == sender["handle"]
    assert parsed.ticket.requester.external_id == sender["_links"]["related"]["contact"].rsplit("/", 1)[-1]
    assert parsed.ticket.requester.authenticated is False
    assert parsed.ticket.channel == "email" and message["type"] == "email"
    assert parsed.ticket.tags == [t["name"] for t in dig(event, "conversation.tags")]


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_delivery_id_is_the_event_id(name: str) -> None:
    payload = load(name)
    body = json.dumps(payload).encode()
    expected = dig(payload, "payload.id") or payload.get("id") or ""
    assert ADAPTER.delivery_id(InboundRequest(body=body, headers={}), payload) == expected
    if name == "app_webhook_sync.front-docs.json":
        assert expected == ""  # no id: the hook falls back to the body digest


# --- signatures ---------------------------------------------------------------------------


def test_app_signature_computed_by_the_documented_algorithm_is_accepted() -> None:
    body = (PAYLOADS / "app_webhook_inbound_received.composed.json").read_bytes()
    ADAPTER.verify(app_request(body), config(), NOW)
    ADAPTER.verify(app_request(body), config(webhook_kind="app"), NOW + 120)


def test_rule_signature_computed_by_the_documented_algorithm_is_accepted() -> None:
    body = (PAYLOADS / "rule_webhook_inbound_message.zulip-fixture.json").read_bytes()
    ADAPTER.verify(rule_request(body), config(), NOW)
    ADAPTER.verify(rule_request(body), config(webhook_kind="rule"), NOW)


def code_of(request: InboundRequest, cfg: IntegrationConfig, now: float = NOW) -> str:
    with pytest.raises(SignatureError) as caught:
        ADAPTER.verify(request, cfg, now)
    return caught.value.code


def test_app_signature_failures() -> None:
    body = (PAYLOADS / "app_webhook_inbound_received.composed.json").read_bytes()
    good = app_request(body)
    tampered = InboundRequest(body=body.replace(b"Support@", b"Suppurt@"), headers=good.headers)
    assert code_of(tampered, config()) == "signature_invalid"
    assert code_of(app_request(body, secret="another-secret"), config()) == "signature_invalid"
    assert code_of(app_request(body, timestamp=NOW - 600), config()) == "timestamp_stale"
    assert code_of(app_request(body, timestamp=NOW + 600), config()) == "timestamp_stale"
    assert code_of(InboundRequest(body=body, headers={}), config()) == "signature_missing"
    no_ts = InboundRequest(body=body, headers={"x-front-signature": good.headers["x-front-signature"]})
    assert code_of(no_ts, config(webhook_kind="app")) == "signature_missing"
    assert code_of(good, config(secret="")) == "secret_invalid"
    bad_ts = InboundRequest(body=body, headers={**good.headers, "x-front-request-timestamp": "soon"})
    assert code_of(bad_ts, config()) == "signature_invalid"


def test_a_shifted_timestamp_breaks_the_app_signature() -> None:
    body = b'{"type":"inbound_received"}'
    good = app_request(body)
    moved = str(int(good.headers["x-front-request-timestamp"]) + 1)
    assert (
        code_of(InboundRequest(body=body, headers={**good.headers, "x-front-request-timestamp": moved}), config())
        == "signature_invalid"
    )


def test_rule_signature_failures() -> None:
    body = (PAYLOADS / "rule_webhook_inbound_message.zulip-fixture.json").read_bytes()
    assert code_of(InboundRequest(body=body + b" ", headers=rule_request(body).headers), config()) == (
        "signature_invalid"
    )
    assert code_of(rule_request(body, secret="wrong"), config()) == "signature_invalid"
    assert code_of(InboundRequest(body=body, headers={}), config(webhook_kind="rule")) == "signature_missing"
    assert code_of(rule_request(body), config(secret="")) == "secret_invalid"
    # an app-webhook signature is not a rule signature: pinning the kind refuses the other scheme
    assert code_of(app_request(body), config(webhook_kind="rule")) == "signature_invalid"
    assert code_of(rule_request(body), config(webhook_kind="app")) == "signature_missing"
    assert code_of(rule_request(body), config(webhook_kind="bogus")) == "signature_invalid"


# --- ignored and malformed deliveries ----------------------------------------------------


def test_inbound_message_carrying_deskguards_marker_is_ignored() -> None:
    payload = load("rule_webhook_inbound_message.zulip-fixture.json")
    payload["target"]["data"]["text"] = f"fwd: our note {NOTE_MARKER_PREFIX}abc"
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ticket is None and "Deskguard" in parsed.ignored


def test_outbound_and_internal_messages_are_ignored() -> None:
    payload = load("rule_webhook_inbound_message.zulip-fixture.json")
    outbound = copy.deepcopy(payload)
    outbound["target"]["data"]["is_inbound"] = False
    assert ADAPTER.parse(outbound, config()).ticket is None
    internal = copy.deepcopy(payload)
    internal["target"]["data"]["type"] = "internal"
    assert ADAPTER.parse(internal, config()).ticket is None
    other = copy.deepcopy(payload)
    other["type"] = "move"
    assert ADAPTER.parse(other, config()).ignored


def test_missing_fields_raise_payload_error() -> None:
    base = load("rule_webhook_inbound_message.zulip-fixture.json")
    for mutate in (
        lambda p: p.pop("type"),
        lambda p: p.pop("conversation"),
        lambda p: p["conversation"].pop("id"),
        lambda p: p["target"].pop("data"),
    ):
        payload = copy.deepcopy(base)
        mutate(payload)
        with pytest.raises(PayloadError):
            ADAPTER.parse(payload, config())
    envelope = load("app_webhook_inbound_received.composed.json")
    envelope.pop("payload")
    with pytest.raises(PayloadError):
        ADAPTER.parse(envelope, config())


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("conversation", "cnv"),
        ("conversation.id", ["x"]),
        ("conversation.subject", {"a": 1}),
        ("conversation.tags", "vip"),
        ("conversation.tags", [1, 2]),
        ("target.data", []),
        ("target.data.is_inbound", "yes"),
        ("target.data.body", ["<p>"]),
        ("target.data.text", {"a": 1}),
        ("target.data.recipients", {"role": "from"}),
        ("target.data.recipients", ["calculon"]),
        ("target.data.recipients.0.handle", ["a@b"]),
        ("type", True),
        ("conversation.id", "x" * 300),
    ],
)
def test_wrong_types_raise_payload_error(path: str, value: Any) -> None:
    payload = load("rule_webhook_inbound_message.zulip-fixture.json")
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
        for wrong in (None, 7, True, "x", [], {}, [1], {"k": "v"}):
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


# --- sample round trip --------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["app", "rule"])
def test_sample_is_signed_and_reads_back(kind: str) -> None:
    cfg = config(webhook_kind=kind)
    source = ticket(body="Hi,\nplease turn off 2FA for me.")
    delivery = ADAPTER.sample(cfg, source, NOW)
    ADAPTER.verify(delivery, cfg, NOW)
    payload = json.loads(delivery.body)
    parsed = ADAPTER.parse(payload, cfg)
    assert parsed.ref == REF and parsed.ticket is not None
    assert parsed.ticket.messages[-1].body == source.messages[-1].body
    assert parsed.ticket.requester.email == source.requester.email
    assert parsed.ticket.requester.name == source.requester.name
    assert ADAPTER.delivery_id(delivery, payload).startswith("evt_")
    if kind == "app":
        assert "x-front-request-timestamp" in delivery.headers
    else:
        assert "x-front-request-timestamp" not in delivery.headers


def test_sample_without_an_option_uses_the_app_scheme() -> None:
    delivery = ADAPTER.sample(config(), ticket(), NOW)
    expected = app_signature(SECRET, delivery.body, delivery.headers["x-front-request-timestamp"])
    assert delivery.headers["x-front-signature"] == expected


# --- complete(): event previews -----------------------------------------------------------


def test_preview_is_completed_from_get_message(fake: fake_front.Fake, http: httpx.Client) -> None:
    payload = load("rule_webhook_inbound_preview.composed.json")
    message_id = payload["target"]["data"]["id"]
    fake.messages[message_id] = {
        "id": message_id,
        "type": "email",
        "is_inbound": True,
        "created_at": 1518309200,
        "body": "<div>Please <b>reset</b> my password</div>",
        "text": "",
        "recipients": [{"handle": "calculon@momsbot.com", "role": "from", "name": "Calculon"}],
    }
    api, cfg = api_for(fake, http)
    parsed = ADAPTER.parse(payload, cfg)
    done = ADAPTER.complete(parsed, api)
    assert done.ticket is not None
    assert done.ticket.messages[-1].body == "Please reset my password"
    assert done.ticket.requester.email == "calculon@momsbot.com"
    assert done.ticket.subject == payload["conversation"]["subject"]
    assert len(fake.sent("GET", rf"/messages/{message_id}")) == 1
    # a full payload needs no API call
    full = ADAPTER.parse(load("rule_webhook_inbound_message.zulip-fixture.json"), cfg)
    assert ADAPTER.complete(full, api) is full


def test_preview_without_is_inbound_keeps_the_preview_requester(fake: fake_front.Fake, http: httpx.Client) -> None:
    payload = load("rule_webhook_inbound_preview.composed.json")
    payload["target"]["data"].pop("is_inbound")
    message_id = payload["target"]["data"]["id"]
    fake.messages[message_id] = {"id": message_id, "type": "email", "is_inbound": True, "text": "Wire it now"}
    api, cfg = api_for(fake, http)
    parsed = ADAPTER.parse(payload, cfg)
    assert parsed.lookup == {"message_id": message_id}
    done = ADAPTER.complete(parsed, api)
    assert done.ticket is not None and done.ticket.messages[-1].body == "Wire it now"
    assert done.ticket.requester.email == payload["conversation"]["recipient"]["handle"]
    fake.messages[message_id]["is_inbound"] = False
    assert ADAPTER.complete(parsed, api).ticket is None


def test_preview_of_an_unknown_message_is_not_retried(fake: fake_front.Fake, http: httpx.Client) -> None:
    api, cfg = api_for(fake, http)
    parsed = ADAPTER.parse(load("rule_webhook_inbound_preview.composed.json"), cfg)
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.complete(parsed, api)
    assert caught.value.status == 404 and not caught.value.retryable


# --- write-back ---------------------------------------------------------------------------


def test_write_back_writes_one_comment_tags_and_field(fake: fake_front.Fake, http: httpx.Client) -> None:
    fake.add_tag("deskguard-low")
    with fake.lock:
        fake.conversations[REF]["tag_ids"].append(fake.tag_store[next(iter(fake.tag_store))]["id"])
    assert fake.tags(REF) == {"deskguard-low"}
    api, cfg = api_for(fake, http)
    note = make_note()
    ADAPTER.write_back(api, REF, note, cfg)
    notes = fake.notes(REF)
    assert len(notes) == 1 and note.marker in notes[0]
    assert fake.sent("POST", rf"/conversations/{REF}/comments")[0].json() == {"body": note.text}
    assert fake.tags(REF) == {"deskguard", "deskguard-high"}
    assert fake.field_value(REF) == "high"
    assert fake.conversations[REF]["custom_fields"][fake_front.OTHER_FIELD] == "gold"  # not erased
    for request in fake.requests:
        assert request.headers["authorization"] == f"Bearer {fake_front.TOKEN}"


def test_write_back_twice_keeps_one_comment_and_makes_no_changes(fake: fake_front.Fake, http: httpx.Client) -> None:
    api, cfg = api_for(fake, http)
    note = make_note()
    ADAPTER.write_back(api, REF, note, cfg)
    created_tags = len(fake.sent("POST", r"/company/tags"))
    ADAPTER.write_back(api, REF, note, cfg)
    assert len(fake.notes(REF)) == 1
    assert len(fake.sent("POST", rf"/conversations/{REF}/comments")) == 1
    assert len(fake.sent("POST", r"/company/tags")) == created_tags == 2
    assert len(fake.sent("POST", rf"/conversations/{REF}/tags")) == 1
    assert len(fake.sent("PATCH", rf"/conversations/{REF}")) == 1


def test_a_new_level_replaces_the_old_tag_and_field(fake: fake_front.Fake, http: httpx.Client) -> None:
    api, cfg = api_for(fake, http)
    ADAPTER.write_back(api, REF, make_note("high", "a-1"), cfg)
    ADAPTER.write_back(api, REF, make_note("critical", "a-2"), cfg)
    assert len(fake.notes(REF)) == 2
    assert fake.tags(REF) == {"deskguard", "deskguard-critical"}
    assert fake.field_value(REF) == "critical"


def test_existing_tags_are_found_across_pages_not_created_again(fake: fake_front.Fake, http: httpx.Client) -> None:
    for name in ("billing", "vip", "returns", "deskguard", "deskguard-high"):
        fake.add_tag(name)
    api, cfg = api_for(fake, http)
    ADAPTER.write_back(api, REF, make_note(), cfg)
    assert fake.sent("POST", r"/company/tags") == []
    assert len(fake.sent("GET", r"/tags")) >= 2  # followed _pagination.next
    assert fake.tags(REF) == {"deskguard", "deskguard-high"}


def test_without_custom_field_option_no_patch(fake: fake_front.Fake, http: httpx.Client) -> None:
    api, _ = api_for(fake, http)
    ADAPTER.write_back(api, REF, make_note(), config(base=fake.base_url))
    assert fake.sent("PATCH", rf"/conversations/{REF}") == []
    assert fake.field_value(REF) is None


def test_a_lost_comment_response_is_not_written_twice(fake: fake_front.Fake) -> None:
    note = make_note()
    with httpx.Client(timeout=0.5) as short:
        api, cfg = api_for(fake, short)
        fake.hang_next(seconds=5, match=fake_front.NOTE_REQUEST, after=True)
        with pytest.raises(WriteBackError) as caught:
            ADAPTER.write_back(api, REF, note, cfg)
        assert caught.value.retryable
        ADAPTER.write_back(api, REF, note, cfg)
    assert len(fake.notes(REF)) == 1
    assert fake.tags(REF) == {"deskguard", "deskguard-high"}


def test_rate_limit_is_retryable_with_retry_after(fake: fake_front.Fake, http: httpx.Client) -> None:
    api, cfg = api_for(fake, http)
    fake.fail_next(429, headers={"Retry-After": "7"})
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(api, REF, make_note(), cfg)
    assert caught.value.retryable and caught.value.retry_after == 7.0 and caught.value.status == 429


def test_server_error_is_retryable(fake: fake_front.Fake, http: httpx.Client) -> None:
    api, cfg = api_for(fake, http)
    fake.fail_next(500, match=fake_front.NOTE_REQUEST)
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(api, REF, make_note(), cfg)
    assert caught.value.retryable and caught.value.status == 500
    assert fake.notes(REF) == []


def test_wrong_token_is_a_permanent_401(fake: fake_front.Fake, http: httpx.Client) -> None:
    api, cfg = api_for(fake, http, token="not-the-token")
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(api, REF, make_note(), cfg)
    assert caught.value.status == 401 and not caught.value.retryable
    with pytest.raises(WriteBackError):
        ADAPTER.check(api)


def test_unknown_conversation_is_permanent(fake: fake_front.Fake, http: httpx.Client) -> None:
    api, cfg = api_for(fake, http)
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(api, "cnv_missing", make_note(), cfg)
    assert caught.value.status == 404 and not caught.value.retryable


def test_connect_without_token_fails_permanently(http: httpx.Client) -> None:
    cfg = IntegrationConfig(
        id="i", tenant_id="t", provider="front", secret=SECRET, credentials={}, api_base_url="https://api2.frontapp.com"
    )
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.connect(cfg, http)
    assert not caught.value.retryable


def test_check_reads_me(fake: fake_front.Fake, http: httpx.Client) -> None:
    api, _ = api_for(fake, http)
    assert ADAPTER.check(api) == "authenticated as Fake Company (cmp_fake)"


# --- admin surface ------------------------------------------------------------------------


def test_admin_surface() -> None:
    assert ADAPTER.provider == "front" and ADAPTER.signing_key_from == "vendor"
    assert ADAPTER.option_names == ("webhook_kind",)
    assert [f.name for f in ADAPTER.credential_fields] == list(fake_front.CREDENTIALS)
    assert ADAPTER.base_url({}) == "https://api2.frontapp.com"
    steps = ADAPTER.setup_steps(config(), "https://dg.example/v1/hooks/front/int-front")
    assert any("https://dg.example/v1/hooks/front/int-front" in step for step in steps)


def test_sample_now_is_recent() -> None:
    now = time.time()
    delivery = ADAPTER.sample(config(), ticket(), now)
    ADAPTER.verify(delivery, config(), now)
