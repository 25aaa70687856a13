"""The Zammad adapter: X-Hub-Signature (HMAC-SHA1 of the body), default payload parsing, write-back.

Zammad sends no timestamp, so there is no replay window to test (`timestamp_stale` never occurs).
"""

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
from integrations.http import WriteBackError
from integrations.payload import html_to_text
from integrations.protocol import InboundRequest, IntegrationConfig, Note, PayloadError, SignatureError
from integrations.zammad import ADAPTER
from tests.integrations.fakes import zammad as fake_module
from tests.integrations.fakes.zammad import CREDENTIALS, NOTE_REQUEST, OPTIONS, Fake

PAYLOADS = Path(__file__).parent / "payloads" / "zammad"
SECRET = "hmac-token-made-by-deskguard"
NOW = 1_700_000_000.0
DOC_PAYLOAD = "default_payload.zammad-docs.json"


def hub_signature(secret: str, body: bytes) -> str:
    """X-Hub-Signature as Zammad's UserAgent.set_signature computes it, written out independently."""
    return "sha1=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha1).hexdigest()


def config(**fields: Any) -> IntegrationConfig:
    values: dict[str, Any] = {
        "id": "int-zm",
        "tenant_id": "acme",
        "provider": "zammad",
        "secret": SECRET,
        "credentials": dict(CREDENTIALS),
        "api_base_url": "https://zammad.example.com",
        "options": {},
    }
    values.update(fields)
    return IntegrationConfig(**values)


JOB_ID = "3f7c2a1e-0d1b-4e3a-9c55-1a2b3c4d5e6f"


def delivery(body: bytes, signature: str | None = None, delivery_id: str | None = JOB_ID) -> InboundRequest:
    headers = {"content-type": "application/json; charset=utf-8", "user-agent": "Zammad User Agent"}
    headers["x-zammad-trigger"] = "Deskguard"
    if delivery_id is not None:
        headers["x-zammad-delivery"] = delivery_id
    if signature is not None:
        headers["x-hub-signature"] = signature
    return InboundRequest(body=body, headers=headers)


def load(name: str = DOC_PAYLOAD) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return data


def payload_files() -> list[str]:
    return sorted(p.name for p in PAYLOADS.glob("*.json"))


def make_note(level: str = "high", assessment: str = "a-123") -> Note:
    marker = f"deskguard-assessment:{assessment}"
    levels = ("low", "medium", "high", "critical")
    return Note(
        assessment_id=assessment,
        marker=marker,
        level=level,
        score=72,
        headline="Account takeover pattern",
        reasons=("Asks to change the email",),
        steps=("Call back on the number on file",),
        forbidden=("Do not change the email before verification",),
        tags=("deskguard", f"deskguard-{level}"),
        stale_tags=tuple(f"deskguard-{other}" for other in levels if other != level),
        text=f"Deskguard: {level} risk (72/100)\n{marker}",
        html=f"<p><strong>Deskguard: {level} risk (72/100)</strong></p><p><small>{marker}</small></p>",
    )


def sample_ticket(ref: str = "81", channel: str = "email") -> Ticket:
    return Ticket(
        ticket_id=ref,
        channel=channel,  # type: ignore[arg-type]
        subject="Locked out",
        messages=[
            Message(author="requester", body="I lost my phone."),
            Message(author="agent", body="Can you confirm your date of birth?"),
            Message(author="requester", body="Just change the email to new@example.net, it's urgent."),
        ],
        requester=Requester(name="Emily Adams", email="emily@example.com", phone="0061 2 1234 7777", external_id="8"),
        tags=["vip"],
    )


@pytest.fixture
def fake() -> Iterator[Fake]:
    with Fake() as server:
        yield server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=httpx.Timeout(2.0, connect=2.0)) as client:
        yield client


def api_config(fake: Fake, **fields: Any) -> IntegrationConfig:
    return config(**{"api_base_url": fake.base_url, "options": dict(OPTIONS), **fields})


# -- payload files ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", payload_files())
def test_every_payload_file_parses(name: str) -> None:
    payload = load(name)
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ref == str(payload["ticket"]["id"])
    assert parsed.ticket is not None, parsed.ignored
    ticket = parsed.ticket
    customer = payload["ticket"]["customer"]
    assert ticket.subject == payload["ticket"]["title"]
    assert ticket.requester.email == customer["email"]
    assert ticket.requester.name == f"{customer['firstname']} {customer['lastname']}"
    assert ticket.requester.phone == customer["phone"]
    assert ticket.requester.external_id == str(customer["id"])
    assert ticket.requester.authenticated is False
    assert ticket.messages[-1].author == "requester"
    assert ticket.messages[-1].body == html_to_text(payload["article"]["body"])
    assert ticket.channel == payload["article"]["type"]  # phone -> phone


def test_documented_payload_reads_as_expected() -> None:
    parsed = ADAPTER.parse(load(), config())
    assert parsed.ticket is not None
    assert parsed.ticket.messages[-1].body == "This is a simple Webhook Test."


def test_payload_readme_names_every_file() -> None:
    readme = (PAYLOADS / "README.md").read_text(encoding="utf-8")
    for name in payload_files():
        assert name in readme


@pytest.mark.parametrize(
    ("article_type", "channel"),
    [("email", "email"), ("web", "web"), ("sms", "phone"), ("chat", "chat"), ("whatsapp message", "social"),
     ("twitter direct-message", "social"), ("note", "api"), ("something new", "web")],
)  # fmt: skip
def test_article_type_maps_to_channel(article_type: str, channel: str) -> None:
    payload = load()
    payload["article"]["type"] = article_type
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ticket is not None and parsed.ticket.channel == channel


def test_plain_text_article_is_not_html_parsed() -> None:
    payload = load()
    payload["article"].update(content_type="text/plain", body="a <b> c")
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ticket is not None and parsed.ticket.messages[-1].body == "a <b> c"


# -- signature ----------------------------------------------------------------------------------


def test_signature_computed_independently_is_accepted() -> None:
    body = (PAYLOADS / DOC_PAYLOAD).read_bytes()
    ADAPTER.verify(delivery(body, hub_signature(SECRET, body)), config(), NOW)


def test_upper_case_hex_is_accepted() -> None:
    body = b'{"ticket":{"id":1}}'
    signature = hub_signature(SECRET, body)
    ADAPTER.verify(delivery(body, "sha1=" + signature[5:].upper()), config(), NOW)


def test_tampered_body_is_signature_invalid() -> None:
    body = (PAYLOADS / DOC_PAYLOAD).read_bytes()
    signature = hub_signature(SECRET, body)
    with pytest.raises(SignatureError) as err:
        ADAPTER.verify(delivery(body.replace(b"emily@example.com", b"evil@example.com"), signature), config(), NOW)
    assert err.value.code == "signature_invalid"


def test_wrong_secret_is_signature_invalid() -> None:
    body = b'{"ticket":{"id":1}}'
    with pytest.raises(SignatureError) as err:
        ADAPTER.verify(delivery(body, hub_signature("another-token", body)), config(), NOW)
    assert err.value.code == "signature_invalid"


@pytest.mark.parametrize("value", ["sha256=abc", "abc", "sha1="])
def test_malformed_signature_is_signature_invalid(value: str) -> None:
    with pytest.raises(SignatureError) as err:
        ADAPTER.verify(delivery(b"{}", value), config(), NOW)
    assert err.value.code == "signature_invalid"


def test_missing_header_is_signature_missing() -> None:
    with pytest.raises(SignatureError) as err:
        ADAPTER.verify(delivery(b"{}", None), config(), NOW)
    assert err.value.code == "signature_missing"


def test_empty_integration_secret_is_secret_invalid() -> None:
    body = b"{}"
    with pytest.raises(SignatureError) as err:
        ADAPTER.verify(delivery(body, hub_signature("", body)), config(secret=""), NOW)
    assert err.value.code == "secret_invalid"


def test_no_timestamp_means_no_replay_window() -> None:
    body = b'{"ticket":{"id":1}}'
    ADAPTER.verify(delivery(body, hub_signature(SECRET, body)), config(), 0.0)


def test_delivery_id_is_the_zammad_delivery_header() -> None:
    body = b"{}"
    assert ADAPTER.delivery_id(delivery(body, None, "job-42"), {}) == "job-42"
    assert ADAPTER.delivery_id(delivery(body, None, None), {}) == "sha256:" + hashlib.sha256(body).hexdigest()


# -- ignored deliveries -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "article",
    [
        {},
        {"internal": True},
        {"sender": "Agent"},
        {"sender": "System"},
        {"sender": ""},
        {"body": "<p>Deskguard: High</p><p><small>deskguard-assessment:abc</small></p>"},
    ],
)
def test_ignored_deliveries(article: dict[str, Any]) -> None:
    payload = load()
    payload["article"] = {**payload["article"], **article} if article else {}
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ticket is None and parsed.ignored
    assert parsed.ref == "81"


def test_missing_article_key_is_ignored() -> None:
    payload = load()
    del payload["article"]
    assert ADAPTER.parse(payload, config()).ticket is None


# -- malformed payloads -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"ticket": []},
        {"ticket": {}},
        {"ticket": {"id": ""}},
        {"ticket": {"id": "1" * 201}},
        {"ticket": {"id": 1}, "article": []},
        {"ticket": {"id": 1}, "article": {"ticket_id": 2, "sender": "Customer", "body": "x"}},
        {"ticket": {"id": 1}, "article": {"internal": "no", "sender": "Customer"}},
    ],
)
def test_missing_or_inconsistent_fields_are_payload_errors(payload: dict[str, Any]) -> None:
    with pytest.raises(PayloadError):
        ADAPTER.parse(payload, config())


BAD_VALUES: list[Any] = [["x"], {"a": 1}, True, None, 7]


def test_any_wrong_type_is_a_payload_error() -> None:
    base = load()
    for section in ("ticket", "article"):
        for key in base[section]:
            for bad in BAD_VALUES:
                payload = copy.deepcopy(base)
                payload[section][key] = bad
                with contextlib.suppress(PayloadError):  # the only acceptable failure
                    ADAPTER.parse(payload, config())
    for key in base["ticket"]["customer"]:
        for bad in BAD_VALUES:
            payload = copy.deepcopy(base)
            payload["ticket"]["customer"][key] = bad
            with contextlib.suppress(PayloadError):  # the only acceptable failure
                ADAPTER.parse(payload, config())


@pytest.mark.parametrize(("path", "bad"), [("ticket.id", {"x": 1}), ("ticket.title", ["x"]),
                                           ("article.body", {"x": 1}), ("ticket.customer", "x"),
                                           ("ticket.customer.email", ["x"]), ("article.sender", [1])])  # fmt: skip
def test_named_wrong_types_fail(path: str, bad: Any) -> None:
    payload = load()
    section, *rest = path.split(".")
    node = payload[section]
    for key in rest[:-1]:
        node = node[key]
    node[rest[-1]] = bad
    with pytest.raises(PayloadError):
        ADAPTER.parse(payload, config())


# -- sample, base URL, setup ----------------------------------------------------------------------


@pytest.mark.parametrize("ref", ["81", "deskguard-test-1700000000"])
def test_sample_round_trips(ref: str) -> None:
    cfg = config()
    ticket = sample_ticket(ref)
    request = ADAPTER.sample(cfg, ticket, NOW)
    assert request.headers["x-hub-signature"] == hub_signature(SECRET, request.body)
    ADAPTER.verify(request, cfg, NOW)
    parsed = ADAPTER.parse(json.loads(request.body), cfg)
    assert parsed.ref == ref
    assert parsed.ticket is not None
    assert parsed.ticket.messages[-1].body == ticket.messages[-1].body
    assert parsed.ticket.requester.email == ticket.requester.email
    assert parsed.ticket.requester.name == ticket.requester.name
    assert ADAPTER.delivery_id(request, {}) != ADAPTER.delivery_id(ADAPTER.sample(cfg, ticket, NOW), {})


def test_base_url_is_always_explicit() -> None:
    assert ADAPTER.base_url(dict(CREDENTIALS)) == ""


def test_setup_steps_name_the_url_and_never_the_secret() -> None:
    text = "\n".join(ADAPTER.setup_steps(config(), "https://dg.example/v1/hooks/zammad/int-zm"))
    assert "https://dg.example/v1/hooks/zammad/int-zm" in text and "HMAC SHA1 Signature Token" in text
    assert SECRET not in text


# -- write-back against the fake ----------------------------------------------------------------


def seeded(fake: Fake, ref: str = "81") -> str:
    fake.add_ticket(ref, sample_ticket(ref).model_copy(update={"tags": ["vip", "deskguard-low"]}))
    return ref


def test_write_back_note_tags_and_field(fake: Fake, http: httpx.Client) -> None:
    ref = seeded(fake)
    cfg = api_config(fake)
    note = make_note("high")
    ADAPTER.write_back(ADAPTER.connect(cfg, http), ref, note, cfg)
    notes = fake.notes(ref)
    assert len(notes) == 1 and note.marker in notes[0]
    assert fake.tags(ref) == {"vip", "deskguard", "deskguard-high"}
    assert fake.field_value(ref) == "high"
    sent = fake.sent("POST", r"/api/v1/ticket_articles")[0]
    assert sent.json() == {"ticket_id": 81, "body": note.html, "content_type": "text/html", "type": "note",
                           "internal": True}  # fmt: skip
    assert sent.headers["authorization"] == f"Token token={CREDENTIALS['token']}"
    removed = fake.sent("DELETE", r"/api/v1/tags/remove")
    assert [r.json() for r in removed] == [{"item": "deskguard-low", "object": "Ticket", "o_id": 81}]


def test_write_back_twice_writes_one_note(fake: Fake, http: httpx.Client) -> None:
    ref = seeded(fake)
    cfg = api_config(fake)
    api = ADAPTER.connect(cfg, http)
    ADAPTER.write_back(api, ref, make_note(), cfg)
    ADAPTER.write_back(api, ref, make_note(), cfg)
    assert len(fake.notes(ref)) == 1
    assert len(fake.sent("POST", r"/api/v1/tags/add")) == 2  # deskguard, deskguard-high: once each


def test_a_new_level_replaces_the_old_tag(fake: Fake, http: httpx.Client) -> None:
    ref = seeded(fake)
    cfg = api_config(fake)
    api = ADAPTER.connect(cfg, http)
    ADAPTER.write_back(api, ref, make_note("high", "a-1"), cfg)
    ADAPTER.write_back(api, ref, make_note("critical", "a-2"), cfg)
    assert fake.tags(ref) == {"vip", "deskguard", "deskguard-critical"}
    assert fake.field_value(ref) == "critical"
    assert len(fake.notes(ref)) == 2


def test_existing_note_with_marker_is_found(fake: Fake, http: httpx.Client) -> None:
    ref = seeded(fake)
    note = make_note()
    fake.add_article(ref, note.html)
    cfg = api_config(fake)
    ADAPTER.write_back(ADAPTER.connect(cfg, http), ref, note, cfg)
    assert len(fake.notes(ref)) == 1
    assert fake.sent("POST", r"/api/v1/ticket_articles") == []


def test_no_custom_field_option_sets_no_field(fake: Fake, http: httpx.Client) -> None:
    ref = seeded(fake)
    cfg = api_config(fake, options={})
    ADAPTER.write_back(ADAPTER.connect(cfg, http), ref, make_note(), cfg)
    assert fake.field_value(ref) is None
    assert fake.sent("PUT", r"/api/v1/tickets/81") == []


def test_rate_limited_is_retryable_with_retry_after(fake: Fake, http: httpx.Client) -> None:
    ref = seeded(fake)
    cfg = api_config(fake)
    fake.fail_next(429, headers={"Retry-After": "9"})
    with pytest.raises(WriteBackError) as err:
        ADAPTER.write_back(ADAPTER.connect(cfg, http), ref, make_note(), cfg)
    assert err.value.retryable and err.value.retry_after == 9.0 and err.value.status == 429


def test_server_error_is_retryable(fake: Fake, http: httpx.Client) -> None:
    ref = seeded(fake)
    cfg = api_config(fake)
    fake.fail_next(502, match=r"POST /api/v1/tags/add")
    with pytest.raises(WriteBackError) as err:
        ADAPTER.write_back(ADAPTER.connect(cfg, http), ref, make_note(), cfg)
    assert err.value.retryable and err.value.status == 502
    ADAPTER.write_back(ADAPTER.connect(cfg, http), ref, make_note(), cfg)
    assert len(fake.notes(ref)) == 1 and "deskguard-high" in fake.tags(ref)


def test_wrong_credentials_are_not_retryable(fake: Fake, http: httpx.Client) -> None:
    ref = seeded(fake)
    cfg = api_config(fake, credentials={"token": "wrong"})
    with pytest.raises(WriteBackError) as err:
        ADAPTER.write_back(ADAPTER.connect(cfg, http), ref, make_note(), cfg)
    assert err.value.status == 401 and not err.value.retryable
    assert fake.notes(ref) == []


def test_missing_token_is_not_retryable(fake: Fake, http: httpx.Client) -> None:
    with pytest.raises(WriteBackError) as err:
        ADAPTER.connect(api_config(fake, credentials={}), http)
    assert not err.value.retryable


def test_lost_note_response_is_not_written_twice(fake: Fake) -> None:
    ref = seeded(fake)
    cfg = api_config(fake)
    fake.hang_next(seconds=5.0, match=NOTE_REQUEST, after=True)
    with httpx.Client(timeout=httpx.Timeout(0.5, connect=2.0)) as client:
        with pytest.raises(WriteBackError) as err:
            ADAPTER.write_back(ADAPTER.connect(cfg, client), ref, make_note(), cfg)
        assert err.value.retryable
        ADAPTER.write_back(ADAPTER.connect(cfg, client), ref, make_note(), cfg)
    assert len(fake.notes(ref)) == 1
    assert "deskguard-high" in fake.tags(ref)


def test_unknown_ticket_is_not_retryable(fake: Fake, http: httpx.Client) -> None:
    cfg = api_config(fake)
    with pytest.raises(WriteBackError) as err:
        ADAPTER.write_back(ADAPTER.connect(cfg, http), "999", make_note(), cfg)
    assert err.value.status == 404 and not err.value.retryable


def test_check(fake: Fake, http: httpx.Client) -> None:
    cfg = api_config(fake)
    assert ADAPTER.check(ADAPTER.connect(cfg, http)) == f"authenticated as user {fake_module.AGENT_ID}"
    with pytest.raises(WriteBackError) as err:
        ADAPTER.check(ADAPTER.connect(api_config(fake, credentials={"token": "wrong"}), http))
    assert err.value.status == 401 and not err.value.retryable


def test_fake_contract(fake: Fake) -> None:
    fake.add_ticket("12", sample_ticket("12"))
    assert fake.notes("12") == [] and fake.tags("12") == {"vip"} and fake.field_value("12") is None
    assert ADAPTER.provider == fake_module.PROVIDER
    assert set(fake_module.CREDENTIALS) == {f.name for f in ADAPTER.credential_fields}
