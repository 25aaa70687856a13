"""The Freshdesk adapter: shared-secret check, parsing of the automation-rule body, write-back.

Freshdesk signs nothing, so there is no body signature to tamper with and no timestamp: a changed
body with the right secret is accepted (asserted below, so a change of that rule is noticed), and
`timestamp_stale` can never happen.
"""

from __future__ import annotations

import base64
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
from integrations.freshdesk import ADAPTER, MAX_CONVERSATION_PAGES, recommended_body
from integrations.http import WriteBackError
from integrations.payload import html_to_text
from integrations.protocol import InboundRequest, IntegrationConfig, Note, PayloadError, SignatureError
from tests.integrations.fakes import freshdesk as fake_module
from tests.integrations.fakes.freshdesk import CREDENTIALS, NOTE_REQUEST, OPTIONS, Fake

PAYLOADS = Path(__file__).parent / "payloads" / "freshdesk"
SECRET = "s3cr3t-made-by-deskguard"
NOW = 1_700_000_000.0
IGNORED_FILES = {"automation_webhook_private_note.zulip-fixture.json"}


def config(**options: Any) -> IntegrationConfig:
    return IntegrationConfig(
        id="int-fd",
        tenant_id="acme",
        provider="freshdesk",
        secret=SECRET,
        credentials=dict(CREDENTIALS),
        api_base_url="https://acme.freshdesk.com",
        options=options,
    )


def request(body: bytes, *, header: str | None = SECRET, query: dict[str, str] | None = None) -> InboundRequest:
    headers = {"content-type": "application/json"}
    if header is not None:
        headers["x-deskguard-secret"] = header
    return InboundRequest(body=body, headers=headers, query=query or {})


def load(name: str) -> dict[str, Any]:
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
        text=f"Deskguard: High risk (72/100)\n{marker}",
        html=f"<p><strong>Deskguard: High risk (72/100)</strong></p><p><small>{marker}</small></p>",
    )


def sample_ticket(ref: str = "4217", messages: int = 1) -> Ticket:
    said = [Message(author="requester", body=f"Please change my email, message {i}.") for i in range(messages)]
    return Ticket(
        ticket_id=ref,
        channel="email",
        subject="Locked out",
        messages=said,
        requester=Requester(name="Dana Whitfield", email="dana@example.com", phone="+1 415 555 0142"),
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


def api_config(fake: Fake, **overrides: Any) -> IntegrationConfig:
    """An integration pointed at the fake, with the fake's credentials and options."""
    return _replace(config(**OPTIONS), **{"api_base_url": fake.base_url, **overrides})


def _replace(cfg: IntegrationConfig, **fields: Any) -> IntegrationConfig:
    values = {name: getattr(cfg, name) for name in IntegrationConfig.__dataclass_fields__}
    values.update(fields)
    return IntegrationConfig(**values)


# -- payload files ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", payload_files())
def test_every_payload_file_parses(name: str) -> None:
    payload = load(name)
    root = payload["freshdesk_webhook"]
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ref == root["ticket_id"]
    if name in IGNORED_FILES:
        assert parsed.ticket is None and parsed.ignored
        return
    assert parsed.ticket is not None, parsed.ignored
    ticket = parsed.ticket
    assert ticket.ticket_id == root["ticket_id"]
    assert ticket.subject == root["ticket_subject"]
    assert ticket.requester.email == root["requester_email"]
    assert ticket.requester.name == root["requester_name"]
    assert ticket.requester.authenticated is False
    last = root.get("ticket_latest_public_comment") or root["ticket_description"]
    assert ticket.messages[-1].author == "requester"
    assert ticket.messages[-1].body == html_to_text(last)
    if root.get("event") == "requester_reply":
        assert ticket.messages[0].body == html_to_text(root["ticket_description"])
    tags = [t.strip() for t in root.get("ticket_tags", "").split(",") if t.strip()]
    assert ticket.tags == tags


def test_payload_readme_names_every_file() -> None:
    readme = (PAYLOADS / "README.md").read_text(encoding="utf-8")
    for name in payload_files():
        assert name in readme


def test_source_maps_to_channel() -> None:
    payload = load("deskguard_template_ticket_created.example.json")
    expected = {"Email": "email", "Portal": "web", "Phone": "phone", "Chat": "chat", "Twitter": "social", "3": "phone"}
    for source, channel in expected.items():
        payload["freshdesk_webhook"]["ticket_source"] = source
        parsed = ADAPTER.parse(payload, config())
        assert parsed.ticket is not None and parsed.ticket.channel == channel


# -- the shared secret --------------------------------------------------------------------------


def test_secret_in_header_is_accepted() -> None:
    body = json.dumps(load("deskguard_template_ticket_created.example.json")).encode()
    ADAPTER.verify(request(body), config(), NOW)


def test_secret_compared_independently_of_the_adapter() -> None:
    # Freshdesk sends the header the admin typed; an equal string passes, a one-character change fails.
    body = b'{"freshdesk_webhook": {}}'
    assert hmac.compare_digest(SECRET.encode(), SECRET.encode())
    ADAPTER.verify(request(body, header=SECRET), config(), NOW)
    with pytest.raises(SignatureError) as err:
        ADAPTER.verify(request(body, header=SECRET[:-1] + "X"), config(), NOW)
    assert err.value.code == "signature_invalid"


def test_missing_header_is_signature_missing() -> None:
    with pytest.raises(SignatureError) as err:
        ADAPTER.verify(request(b"{}", header=None), config(), NOW)
    assert err.value.code == "signature_missing"


def test_wrong_secret_is_signature_invalid() -> None:
    with pytest.raises(SignatureError) as err:
        ADAPTER.verify(request(b"{}", header="not-the-secret"), config(), NOW)
    assert err.value.code == "signature_invalid"


def test_empty_integration_secret_is_secret_invalid() -> None:
    cfg = _replace(config(), secret="")
    with pytest.raises(SignatureError) as err:
        ADAPTER.verify(request(b"{}"), cfg, NOW)
    assert err.value.code == "secret_invalid"


def test_unsigned_body_change_is_not_detectable() -> None:
    body = json.dumps(load("deskguard_template_ticket_created.example.json")).encode()
    ADAPTER.verify(request(body.replace(b"4217", b"4218")), config(), NOW)


def test_no_timestamp_means_old_deliveries_still_verify() -> None:
    ADAPTER.verify(request(b"{}"), config(), 0.0)
    ADAPTER.verify(request(b"{}"), config(), NOW * 10)


def test_secret_in_query() -> None:
    cfg = config(secret_in="query")
    ADAPTER.verify(request(b"{}", header=None, query={"secret": SECRET}), cfg, NOW)
    with pytest.raises(SignatureError) as err:
        ADAPTER.verify(request(b"{}", header=SECRET), cfg, NOW)  # the header is not where it should be
    assert err.value.code == "signature_missing"
    with pytest.raises(SignatureError) as err:
        ADAPTER.verify(request(b"{}", header=None, query={"secret": "nope"}), cfg, NOW)
    assert err.value.code == "signature_invalid"


def test_unknown_secret_in_option_is_refused() -> None:
    with pytest.raises(SignatureError) as err:
        ADAPTER.verify(request(b"{}"), config(secret_in="body"), NOW)
    assert err.value.code == "signature_invalid"


def test_delivery_id_is_the_body_digest() -> None:
    body = b'{"freshdesk_webhook": {"ticket_id": "1"}}'
    expected = "sha256:" + hashlib.sha256(body).hexdigest()
    assert ADAPTER.delivery_id(request(body), json.loads(body)) == expected


# -- ignored deliveries -------------------------------------------------------------------------


def template(**changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(load("deskguard_template_requester_reply.example.json"))
    payload["freshdesk_webhook"].update(changes)
    return payload


@pytest.mark.parametrize(
    "changes",
    [
        {"triggered_event": "{note_type:private}"},
        {"triggered_event": "{note_type:public}"},
        {"performed_by": "agent"},
        {"performed_by": "system"},
        {"event": "status_changed"},
        {"event": "", "triggered_event": "{status:{from:2,to:4}}"},
        {"ticket_latest_public_comment": "<p>Risk note</p><p><small>deskguard-assessment:abc</small></p>"},
    ],
)
def test_ignored_deliveries(changes: dict[str, Any]) -> None:
    parsed = ADAPTER.parse(template(**changes), config())
    assert parsed.ticket is None
    assert parsed.ignored
    assert parsed.ref == "4217"


def test_marker_in_description_of_a_new_ticket_is_ignored() -> None:
    payload = load("deskguard_template_ticket_created.example.json")
    payload["freshdesk_webhook"]["ticket_description"] = "<div>deskguard-assessment:xyz</div>"
    assert ADAPTER.parse(payload, config()).ticket is None


# -- malformed payloads -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"freshdesk_webhook": []},
        {"freshdesk_webhook": "x"},
        {"freshdesk_webhook": {"event": "ticket_created", "ticket_description": "x"}},
        {"freshdesk_webhook": {"ticket_id": "", "event": "ticket_created", "ticket_description": "x"}},
        {"freshdesk_webhook": {"ticket_id": "1", "event": "ticket_created"}},
        {"freshdesk_webhook": {"ticket_id": "1", "event": "requester_reply", "ticket_description": "x"}},
        {"freshdesk_webhook": {"ticket_id": "1" * 201, "event": "ticket_created", "ticket_description": "x"}},
    ],
)
def test_missing_fields_are_payload_errors(payload: dict[str, Any]) -> None:
    with pytest.raises(PayloadError):
        ADAPTER.parse(payload, config())


BAD_VALUES: list[Any] = [["x"], {"a": 1}, True, 1.5e400]


@pytest.mark.parametrize("name", payload_files())
def test_any_wrong_type_is_a_payload_error(name: str) -> None:
    base = load(name)
    for key in base["freshdesk_webhook"]:
        for bad in BAD_VALUES:
            payload = copy.deepcopy(base)
            payload["freshdesk_webhook"][key] = bad
            with contextlib.suppress(PayloadError):  # the only acceptable failure
                ADAPTER.parse(payload, config())


def test_wrong_types_named_fields_fail() -> None:
    for key in ("ticket_id", "triggered_event", "ticket_subject", "requester_email", "ticket_description"):
        payload = template(**{key: {"nested": True}})
        with pytest.raises(PayloadError):
            ADAPTER.parse(payload, config())
    with pytest.raises(PayloadError):
        ADAPTER.parse(template(ticket_tags=[1, 2]), config())


def test_overlong_subject_is_truncated_not_rejected() -> None:
    parsed = ADAPTER.parse(template(ticket_subject="x" * 5000), config())
    assert parsed.ticket is not None and len(parsed.ticket.subject) == 2000


# -- sample, base URL, setup ----------------------------------------------------------------------


@pytest.mark.parametrize("messages", [1, 3])
@pytest.mark.parametrize("secret_in", ["header", "query"])
def test_sample_round_trips(messages: int, secret_in: str) -> None:
    cfg = config(secret_in=secret_in)
    ticket = sample_ticket(messages=messages)
    delivery = ADAPTER.sample(cfg, ticket, NOW)
    ADAPTER.verify(delivery, cfg, NOW)
    parsed = ADAPTER.parse(json.loads(delivery.body), cfg)
    assert parsed.ref == ticket.ticket_id
    assert parsed.ticket is not None
    assert parsed.ticket.messages[-1].body == ticket.messages[-1].body
    assert parsed.ticket.requester.email == ticket.requester.email
    assert parsed.ticket.tags == ticket.tags


def test_sample_of_a_non_numeric_ref() -> None:
    ticket = sample_ticket(ref="deskguard-test-1700000000")
    delivery = ADAPTER.sample(config(), ticket, NOW)
    assert ADAPTER.parse(json.loads(delivery.body), config()).ref == "deskguard-test-1700000000"


@pytest.mark.parametrize(
    ("domain", "url"),
    [
        ("acme", "https://acme.freshdesk.com"),
        ("ACME.freshdesk.com", "https://acme.freshdesk.com"),
        ("https://acme-eu.freshdesk.com/", "https://acme-eu.freshdesk.com"),
        ("acme.example.com", ""),
        ("", ""),
        ("a/b", ""),
    ],
)
def test_base_url(domain: str, url: str) -> None:
    assert ADAPTER.base_url({"domain": domain}) == url


def test_setup_steps_name_the_url_and_never_the_secret() -> None:
    steps = ADAPTER.setup_steps(config(), "https://dg.example/v1/hooks/freshdesk/int-fd")
    text = "\n".join(steps)
    assert "https://dg.example/v1/hooks/freshdesk/int-fd" in text and "X-Deskguard-Secret" in text
    assert SECRET not in text
    query_steps = "\n".join(ADAPTER.setup_steps(config(secret_in="query"), "https://dg.example/h"))
    assert "https://dg.example/h?secret=" in query_steps and SECRET not in query_steps


def test_recommended_body_is_json_with_placeholders() -> None:
    body = json.loads(recommended_body("ticket_created"))
    assert body["freshdesk_webhook"]["ticket_id"] == "{{ticket.id}}"
    assert body["freshdesk_webhook"]["event"] == "ticket_created"


# -- write-back against the fake ----------------------------------------------------------------


def seeded(fake: Fake, ref: str = "4217") -> str:
    ticket = sample_ticket(ref, messages=2)
    fake.add_ticket(ref, ticket.model_copy(update={"tags": ["vip", "deskguard-low"]}))
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
    created = fake.sent("POST", r"/api/v2/tickets/4217/notes")[0].json()
    assert created == {"body": note.html, "private": True}


def test_write_back_twice_writes_one_note(fake: Fake, http: httpx.Client) -> None:
    ref = seeded(fake)
    cfg = api_config(fake)
    api = ADAPTER.connect(cfg, http)
    ADAPTER.write_back(api, ref, make_note(), cfg)
    puts = len(fake.sent("PUT", r"/api/v2/tickets/4217"))
    ADAPTER.write_back(api, ref, make_note(), cfg)
    assert len(fake.notes(ref)) == 1
    assert len(fake.sent("PUT", r"/api/v2/tickets/4217")) == puts  # nothing left to change


def test_a_new_level_replaces_the_old_tag(fake: Fake, http: httpx.Client) -> None:
    ref = seeded(fake)
    cfg = api_config(fake)
    api = ADAPTER.connect(cfg, http)
    ADAPTER.write_back(api, ref, make_note("high", "a-1"), cfg)
    ADAPTER.write_back(api, ref, make_note("critical", "a-2"), cfg)
    assert fake.tags(ref) == {"vip", "deskguard", "deskguard-critical"}
    assert fake.field_value(ref) == "critical"
    assert len(fake.notes(ref)) == 2


def test_marker_found_on_a_later_page(fake: Fake, http: httpx.Client) -> None:
    ref = seeded(fake)
    for i in range(130):
        fake.add_conversation(ref, f"<div>reply {i}</div>")
    note = make_note()
    fake.add_conversation(ref, note.html, private=True)
    cfg = api_config(fake)
    ADAPTER.write_back(ADAPTER.connect(cfg, http), ref, note, cfg)
    assert len(fake.notes(ref)) == 1
    assert len(fake.sent("GET", r"/api/v2/tickets/4217/conversations")) == 2


def test_conversation_pages_are_capped(fake: Fake, http: httpx.Client) -> None:
    ref = seeded(fake)
    for i in range(100 * (MAX_CONVERSATION_PAGES + 2)):
        fake.add_conversation(ref, f"<div>reply {i}</div>")
    cfg = api_config(fake)
    ADAPTER.write_back(ADAPTER.connect(cfg, http), ref, make_note(), cfg)
    assert len(fake.sent("GET", r"/api/v2/tickets/4217/conversations")) == MAX_CONVERSATION_PAGES


def test_no_custom_field_option_sets_no_field(fake: Fake, http: httpx.Client) -> None:
    ref = seeded(fake)
    cfg = api_config(fake, options={})
    ADAPTER.write_back(ADAPTER.connect(cfg, http), ref, make_note(), cfg)
    assert fake.field_value(ref) is None
    assert all("custom_fields" not in r.json() for r in fake.sent("PUT", r"/api/v2/tickets/4217"))


def test_unknown_custom_field_is_not_retryable(fake: Fake, http: httpx.Client) -> None:
    ref = seeded(fake)
    cfg = api_config(fake, options={"custom_field": "cf_nope"})
    with pytest.raises(WriteBackError) as err:
        ADAPTER.write_back(ADAPTER.connect(cfg, http), ref, make_note(), cfg)
    assert err.value.status == 400 and not err.value.retryable


def test_rate_limited_is_retryable_with_retry_after(fake: Fake, http: httpx.Client) -> None:
    ref = seeded(fake)
    cfg = api_config(fake)
    fake.fail_next(429, headers={"Retry-After": "17"})
    with pytest.raises(WriteBackError) as err:
        ADAPTER.write_back(ADAPTER.connect(cfg, http), ref, make_note(), cfg)
    assert err.value.retryable and err.value.retry_after == 17.0 and err.value.status == 429


def test_server_error_is_retryable(fake: Fake, http: httpx.Client) -> None:
    ref = seeded(fake)
    cfg = api_config(fake)
    fake.fail_next(500, match=NOTE_REQUEST)
    with pytest.raises(WriteBackError) as err:
        ADAPTER.write_back(ADAPTER.connect(cfg, http), ref, make_note(), cfg)
    assert err.value.retryable and err.value.status == 500
    ADAPTER.write_back(ADAPTER.connect(cfg, http), ref, make_note(), cfg)
    assert len(fake.notes(ref)) == 1


def test_wrong_credentials_are_not_retryable(fake: Fake, http: httpx.Client) -> None:
    ref = seeded(fake)
    cfg = api_config(fake, credentials={"domain": "acme", "api_key": "wrong"})
    with pytest.raises(WriteBackError) as err:
        ADAPTER.write_back(ADAPTER.connect(cfg, http), ref, make_note(), cfg)
    assert err.value.status == 401 and not err.value.retryable
    assert fake.notes(ref) == []


def test_missing_api_key_is_not_retryable(fake: Fake, http: httpx.Client) -> None:
    cfg = api_config(fake, credentials={"domain": "acme"})
    with pytest.raises(WriteBackError) as err:
        ADAPTER.connect(cfg, http)
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


def test_ref_cannot_escape_its_path_segment(fake: Fake, http: httpx.Client) -> None:
    cfg = api_config(fake)
    with pytest.raises(WriteBackError):
        ADAPTER.write_back(ADAPTER.connect(cfg, http), "../agents/me", make_note(), cfg)
    assert fake.sent("GET", r"/api/v2/agents/me") == []


def test_basic_auth_is_api_key_and_x(fake: Fake, http: httpx.Client) -> None:
    cfg = api_config(fake)
    ADAPTER.check(ADAPTER.connect(cfg, http))
    header = fake.requests[-1].headers["authorization"]
    assert header == "Basic " + base64.b64encode(f"{CREDENTIALS['api_key']}:X".encode()).decode()


def test_check(fake: Fake, http: httpx.Client) -> None:
    cfg = api_config(fake)
    assert ADAPTER.check(ADAPTER.connect(cfg, http)) == f"authenticated as agent {fake_module.AGENT_ID}"
    bad = api_config(fake, credentials={"domain": "acme", "api_key": "wrong"})
    with pytest.raises(WriteBackError) as err:
        ADAPTER.check(ADAPTER.connect(bad, http))
    assert err.value.status == 401


def test_fake_contract(fake: Fake) -> None:
    ticket = sample_ticket("77")
    fake.add_ticket("77", ticket)
    assert fake.notes("77") == [] and fake.tags("77") == {"vip"} and fake.field_value("77") is None
    assert ADAPTER.provider == fake_module.PROVIDER
    assert set(fake_module.CREDENTIALS) == {f.name for f in ADAPTER.credential_fields if f.required}
