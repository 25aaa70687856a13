"""Intercom: X-Hub-Signature (sha1=<hex HMAC-SHA1 of the raw body, keyed with the app's client secret>),
the notification's `id`, 1.x and 2.x conversation payloads, and write-back against a fake of the REST API."""

from __future__ import annotations

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
from integrations.http import WriteBackError
from integrations.intercom import ADAPTER, REGION_HOSTS
from integrations.payload import html_to_text
from integrations.protocol import InboundRequest, IntegrationConfig, Note, PayloadError, SignatureError
from tests.integrations.fakes import intercom as fake_intercom

PAYLOADS = Path(__file__).parent / "payloads" / "intercom"
SECRET = "intercom-client-secret-for-tests"
MARKER = "deskguard-assessment:5b0e8f1c-2d3a-4b5c-9d6e-7f8091a2b3c4"


def config(base_url: str = "https://api.intercom.io", **options: str) -> IntegrationConfig:
    return IntegrationConfig(
        id="int-1",
        tenant_id="t1",
        provider="intercom",
        secret=SECRET,
        credentials=dict(fake_intercom.CREDENTIALS),
        api_base_url=base_url,
        options=options,
    )


def signed(body: bytes, secret: str = SECRET) -> InboundRequest:
    """Signed as Intercom documents it, computed here independently of the adapter."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha1).hexdigest()
    return InboundRequest(body=body, headers={"x-hub-signature": f"sha1={digest}", "content-type": "application/json"})


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return data


def at(payload: Any, path: str) -> Any:
    node = payload
    for key in path.split("."):
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


def note(level: str = "high", marker: str = MARKER) -> Note:
    levels = ("low", "medium", "high", "critical")
    return Note(
        assessment_id=marker.split(":", 1)[1],
        marker=marker,
        level=level,
        score=82,
        headline="Sensitive change requested from an unverified contact",
        reasons=("Asks to change the login email",),
        steps=("Call back on the number on file",),
        forbidden=("Do not change the email from this conversation",),
        tags=("deskguard", f"deskguard-{level}"),
        stale_tags=tuple(f"deskguard-{other}" for other in levels if other != level),
        text=f"Deskguard: High risk (82/100)\n\n{marker}",
        html=f"<p><strong>Deskguard: High risk (82/100)</strong></p><p><small>{marker}</small></p>",
    )


def attack_ticket(ref: str = "215471") -> Ticket:
    return Ticket(
        ticket_id=ref,
        channel="email",
        subject="Locked out & travelling",
        messages=[
            Message(author="requester", body="Hi, I lost my phone and can't get my 2FA codes."),
            Message(author="agent", body="Sorry to hear that. How can I help?"),
            Message(author="requester", body="Please disable 2FA and change my login email to ana@new.example today."),
        ],
        requester=Requester(name="Ana Souza", email="ana@example.com", external_id="667d60f18a68186f43bafdf4"),
        tags=["vip"],
    )


@pytest.fixture
def fake() -> Iterator[fake_intercom.Fake]:
    server = fake_intercom.Fake()
    with server:
        yield server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=1.0) as client:
        yield client


# --- every payload file -----------------------------------------------------------------------------

# file -> what it must give; the expected values are read from the file at these paths.
ASSESSED: dict[str, dict[str, Any]] = {
    "conversation_user_created.zulip-fixture.json": {
        "ref": "data.item.id",
        "last": "data.item.conversation_message.body",
        "email": "data.item.user.email",
        "name": "data.item.user.name",
        "contact": "data.item.user.id",
        "count": 1,
    },
    "conversation_user_replied.zulip-fixture.json": {
        "ref": "data.item.id",
        "last": "data.item.conversation_parts.conversation_parts.0.body",
        "email": "data.item.conversation_parts.conversation_parts.0.author.email",
        "name": "data.item.conversation_parts.conversation_parts.0.author.name",
        "contact": "data.item.user.id",
        "count": 2,
    },
    "conversation_user_replied_v2.intercom-openapi.json": {
        "ref": "data.item.id",
        "last": "data.item.conversation_parts.conversation_parts.0.body",
        "email": "data.item.conversation_parts.conversation_parts.0.author.email",
        "name": "data.item.conversation_parts.conversation_parts.0.author.name",
        "contact": "data.item.contacts.contacts.0.id",
        "count": 2,
    },
}
IGNORED = {
    "ping.zulip-fixture.json": "topic ping",
    "signed_notification_user_created.intercom-docs.json": "topic user.created",
    "conversation_admin_noted_v2.intercom-openapi.json": "topic conversation.admin.noted",
    "conversation_user_replied_deskguard_note.composed.json": "Deskguard's own note",
    "conversation_user_replied_admin_last.composed.json": "admin's reply",
}


def test_every_payload_file_has_an_expectation() -> None:
    assert sorted(p.name for p in PAYLOADS.glob("*.json")) == sorted([*ASSESSED, *IGNORED])


@pytest.mark.parametrize("name", sorted(ASSESSED))
def test_conversation_payloads_are_read(name: str) -> None:
    payload = load(name)
    expect = ASSESSED[name]
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ticket is not None, parsed.ignored
    ticket = parsed.ticket
    assert parsed.ref == ticket.ticket_id == str(at(payload, expect["ref"]))
    assert ticket.messages[-1].author == "requester"
    assert ticket.messages[-1].body == html_to_text(at(payload, expect["last"]))
    assert ticket.requester.email == at(payload, expect["email"])
    assert ticket.requester.name == at(payload, expect["name"])
    assert ticket.requester.external_id == at(payload, expect["contact"])
    assert ticket.requester.authenticated is False
    assert len(ticket.messages) == expect["count"]
    assert parsed.lookup["contact_id"] == at(payload, expect["contact"])


def test_v2_admin_initiated_source_is_the_agents_message() -> None:
    payload = load("conversation_user_replied_v2.intercom-openapi.json")
    ticket = ADAPTER.parse(payload, config()).ticket
    assert ticket is not None
    assert [m.author for m in ticket.messages] == ["agent", "requester"]
    assert ticket.messages[0].body == html_to_text(at(payload, "data.item.source.body"))
    assert ticket.channel == "chat"  # source.type "conversation" is the Messenger


@pytest.mark.parametrize("name", sorted(IGNORED))
def test_ignored_deliveries(name: str) -> None:
    payload = load(name)
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ticket is None
    assert IGNORED[name] in parsed.ignored
    assert parsed.ref == str(payload["data"]["item"].get("id") or "")


def test_the_ping_sent_when_the_webhook_is_saved_is_verified_and_ignored() -> None:
    body = (PAYLOADS / "ping.zulip-fixture.json").read_bytes()
    request = signed(body)
    ADAPTER.verify(request, config(), time.time())
    payload = json.loads(body)
    assert payload["id"] is None
    assert ADAPTER.delivery_id(request, payload).startswith("sha256:")  # no notification id to use
    assert ADAPTER.parse(payload, config()).ticket is None


def test_recorded_payload_signed_over_its_raw_bytes_is_accepted() -> None:
    body = (PAYLOADS / "conversation_user_replied.zulip-fixture.json").read_bytes()
    request = signed(body)
    ADAPTER.verify(request, config(), time.time())
    payload = json.loads(body)
    assert ADAPTER.delivery_id(request, payload) == payload["id"]


def test_there_is_no_timestamp_so_old_deliveries_verify() -> None:
    body = (PAYLOADS / "conversation_user_created.zulip-fixture.json").read_bytes()
    ADAPTER.verify(signed(body), config(), time.time() + 10 * 365 * 86400)


def test_upper_case_hex_is_the_same_signature() -> None:
    body = b'{"type":"notification_event"}'
    request = signed(body)
    upper = {"x-hub-signature": request.headers["x-hub-signature"].upper()}
    ADAPTER.verify(InboundRequest(body=body, headers=upper), config(), time.time())


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ("tamper", "signature_invalid"),
        ("wrong_secret", "signature_invalid"),
        ("sha256_prefix", "signature_invalid"),
        ("bare_hex", "signature_invalid"),
        ("no_header", "signature_missing"),
        ("empty_header", "signature_missing"),
    ],
)
def test_refusals(change: str, code: str) -> None:
    body = (PAYLOADS / "conversation_user_created.zulip-fixture.json").read_bytes()
    request = signed(body, secret="someone-else" if change == "wrong_secret" else SECRET)
    headers = dict(request.headers)
    hexdigest = headers["x-hub-signature"].removeprefix("sha1=")
    if change == "tamper":
        body = body.replace(b"Hello everyone!", b"Hello everyone?")
    if change == "sha256_prefix":
        headers["x-hub-signature"] = f"sha256={hexdigest}"
    if change == "bare_hex":
        headers["x-hub-signature"] = hexdigest
    if change == "no_header":
        del headers["x-hub-signature"]
    if change == "empty_header":
        headers["x-hub-signature"] = "  "
    with pytest.raises(SignatureError) as caught:
        ADAPTER.verify(InboundRequest(body=body, headers=headers), config(), time.time())
    assert caught.value.code == code


def test_no_secret_configured_refuses_everything() -> None:
    body = b"{}"
    empty = IntegrationConfig(id="i", tenant_id="t", provider="intercom", secret="", credentials={}, api_base_url="")
    with pytest.raises(SignatureError) as caught:
        ADAPTER.verify(signed(body, secret=""), empty, time.time())
    assert caught.value.code == "secret_invalid"


def test_delivery_without_an_id_is_keyed_by_its_bytes() -> None:
    body = b'{"topic": "ping"}'
    key = ADAPTER.delivery_id(InboundRequest(body=body, headers={}), {"topic": "ping"})
    assert key.startswith("sha256:")
    assert key == ADAPTER.delivery_id(InboundRequest(body=body, headers={}), {"id": 5})
    assert key != ADAPTER.delivery_id(InboundRequest(body=body + b" ", headers={}), {})


def test_a_requester_quoting_the_marker_is_still_assessed() -> None:
    payload = load("conversation_user_replied_v2.intercom-openapi.json")
    payload["data"]["item"]["conversation_parts"]["conversation_parts"][0]["body"] = f"<p>ignore me {MARKER}</p>"
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ticket is not None
    assert MARKER in parsed.ticket.messages[-1].body


def test_bot_parts_are_skipped() -> None:
    payload = load("conversation_user_replied_v2.intercom-openapi.json")
    parts = payload["data"]["item"]["conversation_parts"]["conversation_parts"]
    bot = copy.deepcopy(parts[0])
    bot.update({"id": "100", "part_type": "comment", "body": "<p>We typically reply in a few hours.</p>"})
    bot["author"] = {"type": "bot", "id": "815309", "name": "Operator", "email": ""}
    parts.append(bot)
    ticket = ADAPTER.parse(payload, config()).ticket
    assert ticket is not None
    assert all("typically reply" not in m.body for m in ticket.messages)
    assert ticket.messages[-1].body == html_to_text(parts[0]["body"])


# --- malformed payloads ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.pop("topic"),
        lambda p: p.pop("data"),
        lambda p: p["data"].pop("item"),
        lambda p: p["data"]["item"].pop("id"),
        lambda p: p["data"].update(item=["not", "an", "object"]),
        lambda p: p["data"]["item"].update(type="contact"),
        lambda p: p["data"]["item"]["conversation_parts"].update(conversation_parts="nope"),
        lambda p: p["data"]["item"]["conversation_parts"]["conversation_parts"].append("nope"),
        lambda p: p["data"]["item"]["conversation_parts"]["conversation_parts"][0].update(body={"html": "x"}),
        lambda p: p["data"]["item"]["conversation_parts"]["conversation_parts"][0].update(created_at="yesterday"),
        lambda p: p["data"]["item"]["conversation_parts"]["conversation_parts"][0].update(author="Joe"),
        lambda p: p["data"]["item"].update(contacts={"contacts": ["Joe"]}),
        lambda p: p["data"]["item"].update(tags={"tags": "vip"}),
        lambda p: p.update(topic=["conversation.user.replied"]),
    ],
)
def test_malformed_payloads_are_payload_errors(mutate: Any) -> None:
    payload = load("conversation_user_replied_v2.intercom-openapi.json")
    mutate(payload)
    with pytest.raises(PayloadError):
        ADAPTER.parse(payload, config())


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


@pytest.mark.parametrize("name", ["conversation_user_replied_v2.intercom-openapi.json", *sorted(ASSESSED)])
def test_any_wrong_type_anywhere_is_a_payload_error_or_a_result(name: str) -> None:
    original = load(name)
    for path in list(_paths(original))[1:]:
        for wrong in (None, 7, True, "text", [], {}, [{"x": 1}], {"x": [1]}):
            payload = copy.deepcopy(original)
            node = payload
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = wrong
            with contextlib.suppress(PayloadError):
                ADAPTER.parse(payload, config())


# --- sample, complete ------------------------------------------------------------------------------------


def test_sample_round_trips_through_verify_parse_and_complete(fake: fake_intercom.Fake, http: httpx.Client) -> None:
    ticket = attack_ticket()
    fake.add_ticket(ticket.ticket_id, ticket)
    cfg = config(fake.base_url)
    now = time.time()
    request = ADAPTER.sample(cfg, ticket, now)
    ADAPTER.verify(request, cfg, now)
    ADAPTER.verify(signed(request.body), cfg, now)  # the same signature as computed independently
    payload = json.loads(request.body)
    assert payload["topic"] == "conversation.user.replied"
    assert ADAPTER.delivery_id(request, payload) == payload["id"]
    parsed = ADAPTER.complete(ADAPTER.parse(payload, cfg), ADAPTER.connect(cfg, http))
    assert parsed.ref == ticket.ticket_id
    assert parsed.ticket is not None
    assert parsed.ticket.subject == ticket.subject
    assert parsed.ticket.channel == "email"
    assert [m.author for m in parsed.ticket.messages] == [m.author for m in ticket.messages]
    assert parsed.ticket.messages[-1].body == ticket.messages[-1].body
    assert parsed.ticket.requester.email == ticket.requester.email
    assert parsed.ticket.tags == ticket.tags


def test_sample_of_a_single_message_is_a_new_conversation() -> None:
    ticket = Ticket(ticket_id="9", messages=[Message(body="a <b>bold</b> & odd request")])
    payload = json.loads(ADAPTER.sample(config(), ticket, time.time()).body)
    assert payload["topic"] == "conversation.user.created"
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ticket is not None
    assert parsed.ticket.messages[-1].body == "a <b>bold</b> & odd request"


def test_complete_reads_a_thin_events_email_from_the_contact(fake: fake_intercom.Fake, http: httpx.Client) -> None:
    payload = load("conversation_user_created.zulip-fixture.json")
    contact_id = at(payload, "data.item.user.id")
    fake.contacts[contact_id] = {"type": "contact", "id": contact_id, "email": "rose@example.com", "phone": "+15550100"}
    cfg = config(fake.base_url)
    parsed = ADAPTER.parse(payload, cfg)
    assert parsed.ticket is not None and parsed.ticket.requester.email == ""
    completed = ADAPTER.complete(parsed, ADAPTER.connect(cfg, http))
    assert completed.ticket is not None
    assert completed.ticket.requester.email == "rose@example.com"
    assert completed.ticket.requester.phone == "+15550100"
    assert completed.ticket.requester.name == at(payload, "data.item.user.name")
    assert fake.sent("GET", f"/contacts/{contact_id}")


def test_complete_keeps_the_payload_when_the_contact_is_gone(fake: fake_intercom.Fake, http: httpx.Client) -> None:
    cfg = config(fake.base_url)
    parsed = ADAPTER.parse(load("conversation_user_created.zulip-fixture.json"), cfg)
    assert ADAPTER.complete(parsed, ADAPTER.connect(cfg, http)) == parsed


# --- write-back ---------------------------------------------------------------------------------------


def _installed(fake: fake_intercom.Fake, ref: str = "215471") -> IntegrationConfig:
    ticket = attack_ticket(ref).model_copy(update={"tags": ["vip", "deskguard-low"]})
    fake.add_ticket(ref, ticket)
    return config(fake.base_url, **fake_intercom.OPTIONS)


def test_write_back_writes_one_note_tags_and_the_attribute(fake: fake_intercom.Fake, http: httpx.Client) -> None:
    cfg = _installed(fake)
    ADAPTER.write_back(ADAPTER.connect(cfg, http), "215471", note("high"), cfg)
    notes = fake.notes("215471")
    assert len(notes) == 1 and MARKER in notes[0]
    assert fake.tags("215471") == {"vip", "deskguard", "deskguard-high"}
    assert fake.field_value("215471") == "high"
    assert fake.custom_attributes("215471")[fake_intercom.OTHER_FIELD] == "Billing"
    [reply] = fake.sent("POST", "/conversations/215471/reply")
    assert reply.json() == {
        "message_type": "note",
        "type": "admin",
        "admin_id": fake_intercom.ADMIN_ID,
        "body": note("high").html,
    }
    assert reply.headers["authorization"] == f"Bearer {fake_intercom.TOKEN}"
    assert reply.headers["intercom-version"] == "2.11"
    [detach] = fake.sent("DELETE", "/conversations/215471/tags/[^/]+")
    assert detach.json() == {"admin_id": fake_intercom.ADMIN_ID}


def test_write_back_twice_writes_one_note(fake: fake_intercom.Fake, http: httpx.Client) -> None:
    cfg = _installed(fake)
    ADAPTER.write_back(ADAPTER.connect(cfg, http), "215471", note("high"), cfg)
    ADAPTER.write_back(ADAPTER.connect(cfg, http), "215471", note("high"), cfg)
    assert len(fake.notes("215471")) == 1
    assert len(fake.sent("POST", "/conversations/215471/tags")) == 2  # deskguard, deskguard-high: once each
    assert fake.tags("215471") == {"vip", "deskguard", "deskguard-high"}


def test_a_new_level_swaps_the_level_tag(fake: fake_intercom.Fake, http: httpx.Client) -> None:
    cfg = _installed(fake)
    ADAPTER.write_back(ADAPTER.connect(cfg, http), "215471", note("high"), cfg)
    other = note("critical", marker="deskguard-assessment:0000-second")
    ADAPTER.write_back(ADAPTER.connect(cfg, http), "215471", other, cfg)
    assert fake.tags("215471") == {"vip", "deskguard", "deskguard-critical"}
    assert fake.field_value("215471") == "critical"
    assert len(fake.notes("215471")) == 2


def test_a_lost_note_response_is_retried_without_a_second_note(fake: fake_intercom.Fake, http: httpx.Client) -> None:
    cfg = _installed(fake)
    fake.hang_next(seconds=5, match=fake_intercom.NOTE_REQUEST, after=True)
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(ADAPTER.connect(cfg, http), "215471", note("high"), cfg)
    assert caught.value.retryable
    assert len(fake.notes("215471")) == 1
    ADAPTER.write_back(ADAPTER.connect(cfg, http), "215471", note("high"), cfg)
    assert len(fake.notes("215471")) == 1
    assert "deskguard-high" in fake.tags("215471")


def test_without_the_option_no_attribute_is_set(fake: fake_intercom.Fake, http: httpx.Client) -> None:
    _installed(fake)
    cfg = config(fake.base_url)
    ADAPTER.write_back(ADAPTER.connect(cfg, http), "215471", note("high"), cfg)
    assert fake.field_value("215471") is None
    assert not fake.sent("PUT", "/conversations/215471")


def test_rate_limit_is_retryable_with_its_delay(fake: fake_intercom.Fake, http: httpx.Client) -> None:
    cfg = _installed(fake)
    fake.fail_next(429, headers={"Retry-After": "17"})
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(ADAPTER.connect(cfg, http), "215471", note(), cfg)
    assert caught.value.retryable and caught.value.retry_after == 17.0 and caught.value.status == 429


def test_server_errors_are_retryable(fake: fake_intercom.Fake, http: httpx.Client) -> None:
    cfg = _installed(fake)
    fake.fail_next(500, match=fake_intercom.NOTE_REQUEST)
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(ADAPTER.connect(cfg, http), "215471", note(), cfg)
    assert caught.value.retryable and caught.value.status == 500
    assert fake.notes("215471") == []


def test_wrong_token_is_refused_and_not_retried(fake: fake_intercom.Fake, http: httpx.Client) -> None:
    _installed(fake)
    wrong = IntegrationConfig(
        id="int-1",
        tenant_id="t1",
        provider="intercom",
        secret=SECRET,
        credentials={"access_token": "not-the-token", "admin_id": fake_intercom.ADMIN_ID},
        api_base_url=fake.base_url,
    )
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(ADAPTER.connect(wrong, http), "215471", note(), wrong)
    assert not caught.value.retryable and caught.value.status == 401
    assert fake.notes("215471") == []


def test_an_unknown_conversation_is_not_retried(fake: fake_intercom.Fake, http: httpx.Client) -> None:
    cfg = config(fake.base_url)
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(ADAPTER.connect(cfg, http), "404404", note(), cfg)
    assert not caught.value.retryable and caught.value.status == 404


def test_check_names_the_admin(fake: fake_intercom.Fake, http: httpx.Client) -> None:
    assert (
        ADAPTER.check(ADAPTER.connect(config(fake.base_url), http))
        == f"authenticated as admin {fake_intercom.ADMIN_ID}"
    )


def test_check_with_a_wrong_token_fails(fake: fake_intercom.Fake, http: httpx.Client) -> None:
    wrong = IntegrationConfig(
        id="i",
        tenant_id="t",
        provider="intercom",
        secret="s",
        credentials={"access_token": "x"},
        api_base_url=fake.base_url,
    )
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.check(ADAPTER.connect(wrong, http))
    assert caught.value.status == 401


@pytest.mark.parametrize(
    ("region", "url"), [("", REGION_HOSTS["us"]), ("EU", REGION_HOSTS["eu"]), ("au", REGION_HOSTS["au"])]
)
def test_region_gives_the_api_host(region: str, url: str) -> None:
    assert ADAPTER.base_url({"region": region} if region else {}) == url
    assert url.startswith("https://api.") and url.endswith("intercom.io")


def test_setup_steps_name_the_webhook_url_and_topics() -> None:
    steps = " ".join(ADAPTER.setup_steps(config(), "https://dg.example/v1/hooks/intercom/int-1"))
    assert "https://dg.example/v1/hooks/intercom/int-1" in steps
    assert "conversation.user.created" in steps and "conversation.user.replied" in steps
    assert ADAPTER.signing_key_from == "vendor"
