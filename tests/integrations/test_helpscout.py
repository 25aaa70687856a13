"""Help Scout: X-HelpScout-Signature (base64 HMAC-SHA1 of the raw body, keyed with the webhook's secret key),
no delivery id (body digest), the v2 Conversation object, and write-back against a fake of the Inbox API."""

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
from integrations.helpscout import ADAPTER
from integrations.http import WriteBackError
from integrations.payload import html_to_text
from integrations.protocol import InboundRequest, IntegrationConfig, Note, PayloadError, SignatureError
from tests.integrations.fakes import helpscout as fake_helpscout

PAYLOADS = Path(__file__).parent / "payloads" / "helpscout"
SECRET = "b6f1e0c3a9d24f7e8c5b2a1d0e9f8c7b6a5d4e3f"  # 40 characters, Help Scout's maximum
MARKER = "deskguard-assessment:5b0e8f1c-2d3a-4b5c-9d6e-7f8091a2b3c4"


def config(base_url: str = "https://api.helpscout.net", **options: str) -> IntegrationConfig:
    return IntegrationConfig(
        id="int-2",
        tenant_id="t1",
        provider="helpscout",
        secret=SECRET,
        credentials=dict(fake_helpscout.CREDENTIALS),
        api_base_url=base_url,
        options=options,
    )


def signed(body: bytes, event: str = "convo.customer.reply.created", secret: str = SECRET) -> InboundRequest:
    """Signed as Help Scout documents it, computed here independently of the adapter."""
    signature = base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha1).digest()).decode("ascii")
    return InboundRequest(body=body, headers={"x-helpscout-signature": signature, "x-helpscout-event": event})


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


def attack_ticket(ref: str = "4812") -> Ticket:
    return Ticket(
        ticket_id=ref,
        channel="email",
        subject="Locked out & travelling",
        messages=[
            Message(author="requester", body="Hi, I lost my phone and can't get my 2FA codes."),
            Message(author="agent", body="Sorry to hear that. How can I help?"),
            Message(author="requester", body="Please disable 2FA and change my login email to ana@new.example today."),
        ],
        requester=Requester(name="Ana Souza", email="ana@example.com", external_id="238604"),
        tags=["vip"],
    )


@pytest.fixture
def fake() -> Iterator[fake_helpscout.Fake]:
    server = fake_helpscout.Fake()
    with server:
        yield server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=1.0) as client:
        yield client


# --- every payload file -----------------------------------------------------------------------------

ASSESSED: dict[str, dict[str, Any]] = {
    "v2_conversation_object.helpscout-api-php-fixture.json": {
        "last": "_embedded.threads.0.body",
        "email": "_embedded.threads.0.customer.email",
        "customer": "primaryCustomer.id",
        "count": 1,
    },
    "convo_customer_reply_created.composed.json": {
        "last": "_embedded.threads.0.body",
        "email": "primaryCustomer.email",
        "customer": "primaryCustomer.id",
        "count": 3,
    },
}
IGNORED = {
    "convo_note_created_deskguard.composed.json": "Deskguard's own note",
    "convo_agent_reply_created.composed.json": "agent's reply",
}
THIN = {"convo_created_without_threads.composed.json"}


def test_every_payload_file_has_an_expectation() -> None:
    assert sorted(p.name for p in PAYLOADS.glob("*.json")) == sorted([*ASSESSED, *IGNORED, *THIN])


@pytest.mark.parametrize("name", sorted(ASSESSED))
def test_conversation_payloads_are_read(name: str) -> None:
    payload = load(name)
    expect = ASSESSED[name]
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ticket is not None, parsed.ignored
    ticket = parsed.ticket
    assert parsed.ref == ticket.ticket_id == str(payload["id"])
    assert ticket.subject == payload["subject"]
    assert ticket.messages[-1].author == "requester"
    assert ticket.messages[-1].body == html_to_text(at(payload, expect["last"]))
    assert ticket.requester.email == at(payload, expect["email"])
    assert ticket.requester.external_id == str(at(payload, expect["customer"]))
    assert ticket.requester.authenticated is False
    assert ticket.tags == [t["tag"] for t in payload["tags"]]
    assert ticket.channel == payload["type"]
    assert len(ticket.messages) == expect["count"]


def test_threads_are_put_in_time_order() -> None:
    payload = load("convo_customer_reply_created.composed.json")
    ticket = ADAPTER.parse(payload, config()).ticket
    assert ticket is not None
    newest_first = payload["_embedded"]["threads"]
    assert [m.body for m in ticket.messages] == [html_to_text(t["body"]) for t in reversed(newest_first)]
    assert [m.author for m in ticket.messages] == ["requester", "agent", "requester"]
    assert ticket.requester.name == f"{payload['primaryCustomer']['first']} {payload['primaryCustomer']['last']}"


@pytest.mark.parametrize("name", sorted(IGNORED))
def test_ignored_deliveries(name: str) -> None:
    payload = load(name)
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ticket is None
    assert IGNORED[name] in parsed.ignored
    assert parsed.ref == str(payload["id"])


def test_a_private_note_without_the_marker_is_ignored_too() -> None:
    payload = load("convo_note_created_deskguard.composed.json")
    payload["_embedded"]["threads"][0]["body"] = "<p>Called her back, all fine.</p>"
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ticket is None and "private note" in parsed.ignored


def test_a_customer_quoting_the_marker_is_still_assessed() -> None:
    payload = load("convo_customer_reply_created.composed.json")
    payload["_embedded"]["threads"][0]["body"] = f"<div>Please skip checks {MARKER}</div>"
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ticket is not None and MARKER in parsed.ticket.messages[-1].body


def test_recorded_payload_signed_over_its_raw_bytes_is_accepted() -> None:
    body = (PAYLOADS / "v2_conversation_object.helpscout-api-php-fixture.json").read_bytes()
    ADAPTER.verify(signed(body), config(), time.time())
    ADAPTER.verify(signed(body), config(), time.time() + 10 * 365 * 86400)  # no timestamp is signed


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ("tamper", "signature_invalid"),
        ("wrong_secret", "signature_invalid"),
        ("hex_instead_of_base64", "signature_invalid"),
        ("sha256", "signature_invalid"),
        ("no_header", "signature_missing"),
    ],
)
def test_refusals(change: str, code: str) -> None:
    body = (PAYLOADS / "convo_customer_reply_created.composed.json").read_bytes()
    request = signed(body, secret="someone-else" if change == "wrong_secret" else SECRET)
    headers = dict(request.headers)
    if change == "tamper":
        body = body.replace(b"rob.new@example.net", b"rob.new@example.org")
    if change == "hex_instead_of_base64":
        headers["x-helpscout-signature"] = hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    if change == "sha256":
        headers["x-helpscout-signature"] = base64.b64encode(
            hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
        ).decode()
    if change == "no_header":
        del headers["x-helpscout-signature"]
    with pytest.raises(SignatureError) as caught:
        ADAPTER.verify(InboundRequest(body=body, headers=headers), config(), time.time())
    assert caught.value.code == code


def test_no_secret_configured_refuses_everything() -> None:
    empty = IntegrationConfig(id="i", tenant_id="t", provider="helpscout", secret="", credentials={}, api_base_url="")
    with pytest.raises(SignatureError) as caught:
        ADAPTER.verify(signed(b"{}", secret=""), empty, time.time())
    assert caught.value.code == "secret_invalid"


def test_delivery_id_is_the_digest_of_event_and_body() -> None:
    body = (PAYLOADS / "convo_customer_reply_created.composed.json").read_bytes()
    payload = json.loads(body)
    first = ADAPTER.delivery_id(signed(body), payload)
    assert first.startswith("sha256:")
    assert first == ADAPTER.delivery_id(signed(body), payload)  # Help Scout's retry: the same bytes
    assert first != ADAPTER.delivery_id(signed(body, event="convo.tags"), payload)
    assert first != ADAPTER.delivery_id(signed(body + b" "), payload)


# --- malformed payloads ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.pop("id"),
        lambda p: p.update(id={"id": 1}),
        lambda p: p["_embedded"].update(threads="none"),
        lambda p: p["_embedded"]["threads"].append(7),
        lambda p: p["_embedded"]["threads"][0].update(body=["x"]),
        lambda p: p["_embedded"]["threads"][0].update(createdAt="last tuesday"),
        lambda p: p["_embedded"]["threads"][0].update(createdBy="Rob"),
        lambda p: p.update(primaryCustomer=[238604]),
        lambda p: p.update(tags="vip"),
        lambda p: p.update(_embedded=[]),
        lambda p: p.update(subject={"text": "hi"}),
    ],
)
def test_malformed_payloads_are_payload_errors(mutate: Any) -> None:
    payload = load("convo_customer_reply_created.composed.json")
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


@pytest.mark.parametrize("name", sorted(ASSESSED))
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


def test_sample_round_trips_through_verify_and_parse(fake: fake_helpscout.Fake, http: httpx.Client) -> None:
    ticket = attack_ticket()
    fake.add_ticket(ticket.ticket_id, ticket)
    cfg = config(fake.base_url)
    now = time.time()
    request = ADAPTER.sample(cfg, ticket, now)
    ADAPTER.verify(request, cfg, now)
    assert request.headers["x-helpscout-signature"] == signed(request.body).headers["x-helpscout-signature"]
    assert request.headers["x-helpscout-event"] == "convo.customer.reply.created"
    payload = json.loads(request.body)
    parsed = ADAPTER.complete(ADAPTER.parse(payload, cfg), ADAPTER.connect(cfg, http))
    assert parsed.ref == ticket.ticket_id
    assert parsed.ticket is not None
    assert parsed.ticket.subject == ticket.subject
    assert [m.author for m in parsed.ticket.messages] == [m.author for m in ticket.messages]
    assert parsed.ticket.messages[-1].body == ticket.messages[-1].body
    assert parsed.ticket.requester.email == ticket.requester.email
    assert parsed.ticket.requester.name == ticket.requester.name
    assert parsed.ticket.tags == ticket.tags


def test_sample_of_one_message_is_convo_created() -> None:
    ticket = Ticket(ticket_id="T-1", channel="chat", messages=[Message(body="line one\n<script>x</script> & more")])
    request = ADAPTER.sample(config(), ticket, time.time())
    assert request.headers["x-helpscout-event"] == "convo.created"
    parsed = ADAPTER.parse(json.loads(request.body), config())
    assert parsed.ticket is not None
    assert parsed.ticket.channel == "chat"
    assert parsed.ticket.messages[-1].body == "line one\n<script>x</script> & more"


def test_complete_reads_threads_missing_from_the_body(fake: fake_helpscout.Fake, http: httpx.Client) -> None:
    payload = load("convo_created_without_threads.composed.json")
    ref = str(payload["id"])
    fake.add_ticket(ref, attack_ticket(ref))
    cfg = config(fake.base_url)
    parsed = ADAPTER.parse(payload, cfg)
    assert parsed.ticket is not None and parsed.ticket.messages == []
    assert parsed.lookup["threads"] == "fetch"
    completed = ADAPTER.complete(parsed, ADAPTER.connect(cfg, http))
    assert completed.ticket is not None
    assert completed.ticket.messages[-1].body == attack_ticket().messages[-1].body
    assert completed.ticket.requester.email == payload["primaryCustomer"]["email"]
    assert fake.sent("GET", f"/v2/conversations/{ref}/threads")


def test_complete_ignores_a_thin_event_whose_newest_thread_is_a_note(
    fake: fake_helpscout.Fake, http: httpx.Client
) -> None:
    payload = load("convo_created_without_threads.composed.json")
    ref = str(payload["id"])
    fake.add_ticket(ref, attack_ticket(ref))
    cfg = config(fake.base_url)
    api = ADAPTER.connect(cfg, http)
    ADAPTER.write_back(api, ref, note(), cfg)
    completed = ADAPTER.complete(ADAPTER.parse(payload, cfg), api)
    assert completed.ticket is None and "Deskguard's own note" in completed.ignored


def test_complete_ignores_a_thin_event_for_a_conversation_that_is_gone(
    fake: fake_helpscout.Fake, http: httpx.Client
) -> None:
    cfg = config(fake.base_url)
    parsed = ADAPTER.parse({"id": 999000}, cfg)  # e.g. a customer.created body, or a deleted conversation
    assert parsed.ticket is not None
    completed = ADAPTER.complete(parsed, ADAPTER.connect(cfg, http))
    assert completed.ticket is None and "no conversation" in completed.ignored


def test_complete_turns_malformed_api_threads_into_a_write_back_error(
    fake: fake_helpscout.Fake, http: httpx.Client
) -> None:
    payload = load("convo_created_without_threads.composed.json")
    ref = str(payload["id"])
    fake.add_ticket(ref, attack_ticket(ref))
    with fake.lock:
        fake.conversations[ref]["threads"][0]["createdBy"] = "not an object"
    cfg = config(fake.base_url)
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.complete(ADAPTER.parse(payload, cfg), ADAPTER.connect(cfg, http))
    assert not caught.value.retryable


def test_complete_reads_the_customers_email_when_missing(fake: fake_helpscout.Fake, http: httpx.Client) -> None:
    payload = load("v2_conversation_object.helpscout-api-php-fixture.json")
    payload["_embedded"]["threads"][0]["customer"].pop("email")
    payload["createdBy"].pop("email")
    customer = str(payload["primaryCustomer"]["id"])
    fake.customers[customer] = {
        "id": int(customer),
        "firstName": "Vernon",
        "lastName": "Bear",
        "_embedded": {"emails": [{"id": 1, "value": "vbear@mywork.com", "type": "work"}], "phones": []},
    }
    cfg = config(fake.base_url)
    parsed = ADAPTER.parse(payload, cfg)
    assert parsed.ticket is not None and parsed.ticket.requester.email == ""
    completed = ADAPTER.complete(parsed, ADAPTER.connect(cfg, http))
    assert completed.ticket is not None
    assert completed.ticket.requester.email == "vbear@mywork.com"
    assert completed.ticket.requester.name == parsed.ticket.requester.name  # the payload's name is kept


# --- write-back ---------------------------------------------------------------------------------------


def _installed(fake: fake_helpscout.Fake, ref: str = "4812") -> IntegrationConfig:
    ticket = attack_ticket(ref).model_copy(update={"tags": ["vip", "deskguard-low"]})
    fake.add_ticket(ref, ticket)
    return config(fake.base_url, **fake_helpscout.OPTIONS)


def test_write_back_writes_one_note_tags_and_the_field(fake: fake_helpscout.Fake, http: httpx.Client) -> None:
    cfg = _installed(fake)
    ADAPTER.write_back(ADAPTER.connect(cfg, http), "4812", note("high"), cfg)
    notes = fake.notes("4812")
    assert len(notes) == 1 and MARKER in notes[0]
    assert fake.tags("4812") == {"vip", "deskguard", "deskguard-high"}
    assert fake.field_value("4812") == "high"
    assert fake.fields("4812")[fake_helpscout.OTHER_FIELD_ID] == fake_helpscout.OTHER_FIELD_OPTION  # not erased
    [created] = fake.sent("POST", "/v2/conversations/4812/notes")
    assert created.json() == {"text": note("high").html}
    assert created.headers["authorization"].startswith("Bearer hs-token-")
    [token] = fake.sent("POST", "/v2/oauth2/token")
    assert token.json() == {
        "grant_type": "client_credentials",
        "client_id": fake_helpscout.APP_ID,
        "client_secret": fake_helpscout.APP_SECRET,
    }


def test_write_back_twice_writes_one_note_and_changes_nothing_more(
    fake: fake_helpscout.Fake, http: httpx.Client
) -> None:
    cfg = _installed(fake)
    ADAPTER.write_back(ADAPTER.connect(cfg, http), "4812", note("high"), cfg)
    ADAPTER.write_back(ADAPTER.connect(cfg, http), "4812", note("high"), cfg)
    assert len(fake.notes("4812")) == 1
    assert len(fake.sent("PUT", "/v2/conversations/4812/tags")) == 1
    assert len(fake.sent("PUT", "/v2/conversations/4812/fields")) == 1


def test_a_new_level_swaps_the_level_tag(fake: fake_helpscout.Fake, http: httpx.Client) -> None:
    cfg = _installed(fake)
    ADAPTER.write_back(ADAPTER.connect(cfg, http), "4812", note("high"), cfg)
    ADAPTER.write_back(ADAPTER.connect(cfg, http), "4812", note("medium", marker="deskguard-assessment:2"), cfg)
    assert fake.tags("4812") == {"vip", "deskguard", "deskguard-medium"}
    assert fake.field_value("4812") == "medium"
    assert len(fake.notes("4812")) == 2


def test_a_lost_note_response_is_retried_without_a_second_note(fake: fake_helpscout.Fake, http: httpx.Client) -> None:
    cfg = _installed(fake)
    fake.hang_next(seconds=5, match=fake_helpscout.NOTE_REQUEST, after=True)
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(ADAPTER.connect(cfg, http), "4812", note("high"), cfg)
    assert caught.value.retryable
    assert len(fake.notes("4812")) == 1
    ADAPTER.write_back(ADAPTER.connect(cfg, http), "4812", note("high"), cfg)
    assert len(fake.notes("4812")) == 1
    assert "deskguard-high" in fake.tags("4812")


def test_the_marker_is_found_on_a_later_page(fake: fake_helpscout.Fake, http: httpx.Client) -> None:
    cfg = _installed(fake)
    ADAPTER.write_back(ADAPTER.connect(cfg, http), "4812", note("high"), cfg)
    with fake.lock:  # 60 newer threads push Deskguard's note to page 2
        convo = fake.conversations["4812"]
        person = dict(convo["primaryCustomer"])
        convo["threads"].extend(fake._thread("requester", f"message {i}", person) for i in range(60))
    ADAPTER.write_back(ADAPTER.connect(cfg, http), "4812", note("high"), cfg)
    assert len(fake.notes("4812")) == 1
    pages = [r.query["page"] for r in fake.sent("GET", "/v2/conversations/4812/threads")]
    assert pages == [["1"], ["1"], ["2"]]


def test_thread_pages_read_are_bounded(fake: fake_helpscout.Fake, http: httpx.Client) -> None:
    cfg = _installed(fake)
    with fake.lock:
        convo = fake.conversations["4812"]
        person = dict(convo["primaryCustomer"])
        convo["threads"].extend(fake._thread("requester", f"message {i}", person) for i in range(400))
    with pytest.raises(WriteBackError) as caught:  # past 100 threads Help Scout locks the conversation
        ADAPTER.write_back(ADAPTER.connect(cfg, http), "4812", note("high"), cfg)
    assert caught.value.status == 412 and not caught.value.retryable
    assert len(fake.sent("GET", "/v2/conversations/4812/threads")) == 5


def test_without_the_option_no_field_is_set(fake: fake_helpscout.Fake, http: httpx.Client) -> None:
    _installed(fake)
    cfg = config(fake.base_url)
    ADAPTER.write_back(ADAPTER.connect(cfg, http), "4812", note("high"), cfg)
    assert fake.field_value("4812") is None
    assert not fake.sent("PUT", "/v2/conversations/4812/fields")


def test_a_non_numeric_field_option_is_a_permanent_error(fake: fake_helpscout.Fake, http: httpx.Client) -> None:
    _installed(fake)
    cfg = config(fake.base_url, custom_field="Deskguard risk")
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(ADAPTER.connect(cfg, http), "4812", note("high"), cfg)
    assert not caught.value.retryable


@pytest.mark.parametrize("header", ["X-RateLimit-Retry-After", "Retry-After"])
def test_rate_limit_is_retryable_with_its_delay(fake: fake_helpscout.Fake, http: httpx.Client, header: str) -> None:
    cfg = _installed(fake)
    api = ADAPTER.connect(cfg, http)
    fake.fail_next(429, headers={header: "23"})
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(api, "4812", note(), cfg)
    assert caught.value.retryable and caught.value.retry_after == 23.0 and caught.value.status == 429


def test_server_errors_are_retryable(fake: fake_helpscout.Fake, http: httpx.Client) -> None:
    cfg = _installed(fake)
    fake.fail_next(503, match=fake_helpscout.NOTE_REQUEST)
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(ADAPTER.connect(cfg, http), "4812", note(), cfg)
    assert caught.value.retryable and caught.value.status == 503
    assert fake.notes("4812") == []


def test_wrong_app_secret_is_refused_and_not_retried(fake: fake_helpscout.Fake, http: httpx.Client) -> None:
    _installed(fake)
    wrong = IntegrationConfig(
        id="int-2",
        tenant_id="t1",
        provider="helpscout",
        secret=SECRET,
        credentials={"app_id": fake_helpscout.APP_ID, "app_secret": "not-the-secret"},
        api_base_url=fake.base_url,
    )
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.connect(wrong, http)
    assert not caught.value.retryable and caught.value.status == 401


def test_a_revoked_token_is_refused_and_not_retried(fake: fake_helpscout.Fake, http: httpx.Client) -> None:
    cfg = _installed(fake)
    api = ADAPTER.connect(cfg, http)
    fake.tokens.clear()
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(api, "4812", note(), cfg)
    assert not caught.value.retryable and caught.value.status == 401
    assert fake.notes("4812") == []


def test_check_names_the_user(fake: fake_helpscout.Fake, http: httpx.Client) -> None:
    answer = ADAPTER.check(ADAPTER.connect(config(fake.base_url), http))
    assert answer == f"authenticated as user {fake_helpscout.USER['id']}"


def test_setup_steps_name_the_webhook_url_events_and_secret_limit() -> None:
    steps = " ".join(ADAPTER.setup_steps(config(), "https://dg.example/v1/hooks/helpscout/int-2"))
    assert "https://dg.example/v1/hooks/helpscout/int-2" in steps
    assert "Conversation > Created" in steps and "Customer Reply" in steps and "40 characters" in steps
    assert ADAPTER.signing_key_from == "deskguard"
    assert ADAPTER.base_url({}) == "https://api.helpscout.net"
