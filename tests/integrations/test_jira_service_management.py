"""Jira Service Management: X-Hub-Signature over the raw body, issue_created / comment_created parsing,
internal comments and agents' replies ignored, and the write-back against a fake JSM site."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.ticket import Message, Requester, Ticket
from integrations.base import body_digest
from integrations.http import WriteBackError
from integrations.jira_service_management import ADAPTER
from integrations.protocol import InboundRequest, IntegrationConfig, Note, PayloadError, SignatureError
from tests.integrations.fakes import jira_service_management as fakes
from tests.integrations.fakes.jira_service_management import CREDENTIALS, FIELD_ID, NOTE_REQUEST, OPTIONS, Fake

PAYLOADS = Path(__file__).parent / "payloads" / "jira_service_management"
SECRET = "jsm-webhook-secret"
MARKER = "deskguard-assessment:as_0123456789"
NOW = 1_714_557_600.0


def config(base_url: str = "https://acme.atlassian.net", **changes: Any) -> IntegrationConfig:
    values: dict[str, Any] = {
        "id": "i1",
        "tenant_id": "t1",
        "provider": "jira_service_management",
        "secret": SECRET,
        "credentials": CREDENTIALS,
        "api_base_url": base_url,
        "options": OPTIONS,
    }
    return IntegrationConfig(**(values | changes))


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_bytes())


def jira_signed(body: bytes, secret: str = SECRET, delivery: str = "wh-1") -> InboundRequest:
    """A delivery signed as Atlassian documents: X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, body)>."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"x-hub-signature": f"sha256={digest}", "x-atlassian-webhook-identifier": delivery}
    return InboundRequest(body=body, headers=headers)


def note(level: str = "high") -> Note:
    levels = ("low", "medium", "high", "critical")
    return Note(
        assessment_id="as_0123456789",
        marker=MARKER,
        level=level,
        score=82,
        headline="Asks to turn off 2FA and change the email",
        reasons=("account recovery request",),
        steps=("Call back on the number on file",),
        forbidden=("Do not change the email from this ticket",),
        tags=("deskguard", f"deskguard-{level}"),
        stale_tags=tuple(f"deskguard-{other}" for other in levels if other != level),
        text=f"Deskguard: High risk (82/100)\nAsks to turn off 2FA and change the email\n\n{MARKER}",
        html=f"<p>Deskguard: High risk</p><p><small>{MARKER}</small></p>",
    )


def a_ticket(ref: str, account: str = "qm:cust-1", email: str = "ana@example.com") -> Ticket:
    return Ticket(
        ticket_id=ref,
        subject="Locked out",
        messages=[Message(author="requester", body="I lost my phone, please turn off two-factor.")],
        requester=Requester(name="Ana", email=email, external_id=account),
        tags=["vip", "deskguard-low"],
    )


@pytest.fixture
def fake() -> Iterator[Fake]:
    with Fake() as server:
        yield server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=httpx.Timeout(2.0)) as client:
        yield client


# --- signature and delivery id ------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(p.name for p in PAYLOADS.glob("*.json")))
def test_independently_signed_payload_files_verify(name: str) -> None:
    body = (PAYLOADS / name).read_bytes()
    request = jira_signed(body)
    ADAPTER.verify(request, config(), NOW)
    assert ADAPTER.delivery_id(request, json.loads(body)) == "wh-1"


def test_no_freshness_window_because_jira_signs_no_timestamp() -> None:
    body = (PAYLOADS / "comment_created.zulip-fixture.json").read_bytes()
    ADAPTER.verify(jira_signed(body), config(), NOW + 30 * 24 * 3600)


def test_upper_case_hex_is_the_same_signature() -> None:
    body = b'{"webhookEvent":"comment_created"}'
    request = jira_signed(body)
    upper = {**request.headers, "x-hub-signature": "sha256=" + request.headers["x-hub-signature"][7:].upper()}
    ADAPTER.verify(InboundRequest(body=body, headers=upper), config(), NOW)


def _tamper(request: InboundRequest) -> InboundRequest:
    return InboundRequest(body=request.body.replace(b"comment", b"c0mment", 1), headers=request.headers)


def _wrong_secret(request: InboundRequest) -> InboundRequest:
    return jira_signed(request.body, secret="another-secret")


def _no_header(request: InboundRequest) -> InboundRequest:
    return InboundRequest(body=request.body, headers={"x-atlassian-webhook-identifier": "wh-1"})


def _sha1(request: InboundRequest) -> InboundRequest:
    digest = hmac.new(SECRET.encode(), request.body, hashlib.sha1).hexdigest()
    return InboundRequest(body=request.body, headers={"x-hub-signature": f"sha1={digest}"})


def _bare_hex(request: InboundRequest) -> InboundRequest:
    return InboundRequest(body=request.body, headers={"x-hub-signature": request.headers["x-hub-signature"][7:]})


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (_tamper, "signature_invalid"),
        (_wrong_secret, "signature_invalid"),
        (_no_header, "signature_missing"),
        (_sha1, "signature_invalid"),
        (_bare_hex, "signature_invalid"),
    ],
)
def test_bad_signatures_are_refused(change: Callable[[InboundRequest], InboundRequest], code: str) -> None:
    request = change(jira_signed((PAYLOADS / "comment_created.zulip-fixture.json").read_bytes()))
    with pytest.raises(SignatureError) as caught:
        ADAPTER.verify(request, config(), NOW)
    assert caught.value.code == code


def test_an_integration_without_a_secret_refuses_everything() -> None:
    request = jira_signed(b"{}", secret="")
    with pytest.raises(SignatureError) as caught:
        ADAPTER.verify(request, config(secret=""), NOW)
    assert caught.value.code == "secret_invalid"


def test_delivery_id_falls_back_to_the_body_digest() -> None:
    request = InboundRequest(body=b'{"a":1}', headers={})
    assert ADAPTER.delivery_id(request, {"a": 1}) == body_digest(b'{"a":1}')


# --- parsing the recorded payloads --------------------------------------------------------------


def test_issue_created_file_is_the_customers_first_message() -> None:
    payload = load("jira_issue_created.zulip-fixture.json")
    parsed = ADAPTER.parse(payload, config())
    fields = payload["issue"]["fields"]
    assert parsed.ref == payload["issue"]["key"]
    ticket = parsed.ticket
    assert ticket is not None and ticket.ticket_id == parsed.ref
    assert ticket.subject == fields["summary"]
    assert [(m.author, m.body) for m in ticket.messages] == [("requester", fields["description"])]
    assert ticket.messages[0].created_at is not None
    assert ticket.requester.email == fields["reporter"]["emailAddress"]
    assert ticket.requester.name == fields["reporter"]["displayName"]
    assert ticket.requester.external_id == fields["reporter"]["accountId"]
    assert ticket.requester.authenticated is False
    assert ticket.channel == "web"
    assert ticket.tags == fields["labels"]
    assert parsed.lookup == {}


def test_comment_created_file_is_a_customer_comment_to_complete() -> None:
    payload = load("comment_created.zulip-fixture.json")
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ref == payload["issue"]["key"]
    assert parsed.ticket is not None
    assert parsed.ticket.subject == payload["issue"]["fields"]["summary"]
    assert [m.body for m in parsed.ticket.messages] == [payload["comment"]["body"]]
    assert parsed.ticket.requester.name == payload["comment"]["author"]["displayName"]
    assert parsed.lookup["author"] == payload["comment"]["author"]["accountId"]


def test_documented_issue_updated_example_is_ignored() -> None:
    payload = load("issue_updated_with_comment.atlassian-docs.json")
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ticket is None
    assert parsed.ref == payload["issue"]["key"]
    assert "issue updates" in parsed.ignored


# --- ignored deliveries -------------------------------------------------------------------------


def _comment(**changes: Any) -> dict[str, Any]:
    payload = load("comment_created.zulip-fixture.json")
    payload["comment"].update(changes)
    return payload


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (_comment(jsdPublic=False), "internal"),
        (_comment(properties=[{"key": "sd.public.comment", "value": {"internal": True}}]), "internal"),
        (_comment(visibility={"type": "role", "value": "Service Desk Team"}), "internal"),
        (_comment(body=f"Deskguard: High risk\n{MARKER}"), "Deskguard"),
        (_comment(body="   "), "empty"),
        (_comment(author={"accountId": "app-1", "accountType": "app", "displayName": "Automation"}), "app"),
        ({"webhookEvent": "jira:issue_deleted", "issue": {"key": "HELP-1"}}, "not one Deskguard assesses"),
        ({"webhookEvent": "comment_updated", "issue": {"key": "HELP-1"}, "comment": {}}, "not one"),
        ({"webhookEvent": "project_created", "project": {"id": 1}}, "not one Deskguard assesses"),
    ],
)
def test_deliveries_that_are_not_new_customer_text_are_ignored(payload: dict[str, Any], why: str) -> None:
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ticket is None
    assert why in parsed.ignored


def test_deskguard_text_in_a_new_issue_is_ignored() -> None:
    payload = load("jira_issue_created.zulip-fixture.json")
    payload["issue"]["fields"]["description"] = f"copied note\n{MARKER}"
    assert ADAPTER.parse(payload, config()).ticket is None


def test_an_agents_public_reply_is_ignored_once_the_reporter_is_known(fake: Fake, http: httpx.Client) -> None:
    payload = load("comment_created.zulip-fixture.json")
    key = payload["issue"]["key"]
    fake.add_ticket(key, a_ticket(key, account="qm:someone-else"))
    parsed = ADAPTER.parse(payload, config(fake.base_url))
    assert parsed.ticket is not None
    completed = ADAPTER.complete(parsed, ADAPTER.connect(config(fake.base_url), http))
    assert completed.ticket is None
    assert "agent" in completed.ignored


def test_a_reporters_comment_gets_the_description_and_email(fake: Fake, http: httpx.Client) -> None:
    payload = load("comment_created.zulip-fixture.json")
    key, author = payload["issue"]["key"], payload["comment"]["author"]["accountId"]
    fake.add_ticket(key, a_ticket(key, account=author, email="eeshan@example.com"))
    parsed = ADAPTER.parse(payload, config(fake.base_url))
    completed = ADAPTER.complete(parsed, ADAPTER.connect(config(fake.base_url), http))
    assert completed.ticket is not None
    bodies = [m.body for m in completed.ticket.messages]
    assert bodies == [a_ticket(key).messages[0].body, payload["comment"]["body"]]
    assert completed.ticket.requester.email == "eeshan@example.com"


def test_another_customers_comment_is_kept(fake: Fake, http: httpx.Client) -> None:
    payload = _comment(author={"accountId": "qm:participant", "accountType": "customer", "displayName": "Bo"})
    key = payload["issue"]["key"]
    fake.add_ticket(key, a_ticket(key))
    completed = ADAPTER.complete(ADAPTER.parse(payload, config()), ADAPTER.connect(config(fake.base_url), http))
    assert completed.ticket is not None
    assert [m.body for m in completed.ticket.messages] == [payload["comment"]["body"]]


def test_a_comment_on_an_issue_that_is_not_a_request_is_ignored(fake: Fake, http: httpx.Client) -> None:
    parsed = ADAPTER.parse(load("comment_created.zulip-fixture.json"), config())
    completed = ADAPTER.complete(parsed, ADAPTER.connect(config(fake.base_url), http))
    assert completed.ticket is None


def test_a_hidden_email_is_read_from_the_user(fake: Fake, http: httpx.Client) -> None:
    payload = load("jira_issue_created.zulip-fixture.json")
    reporter = payload["issue"]["fields"]["reporter"]
    del reporter["emailAddress"]
    fake.add_ticket("OTHER-1", a_ticket("OTHER-1", account=reporter["accountId"], email="leo@example.com"))
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ticket is not None and parsed.ticket.requester.email == ""
    completed = ADAPTER.complete(parsed, ADAPTER.connect(config(fake.base_url), http))
    assert completed.ticket is not None and completed.ticket.requester.email == "leo@example.com"


def test_an_unknown_user_leaves_the_email_empty(fake: Fake, http: httpx.Client) -> None:
    payload = load("jira_issue_created.zulip-fixture.json")
    del payload["issue"]["fields"]["reporter"]["emailAddress"]
    completed = ADAPTER.complete(ADAPTER.parse(payload, config()), ADAPTER.connect(config(fake.base_url), http))
    assert completed.ticket is not None and completed.ticket.requester.email == ""


# --- bodies, channels -----------------------------------------------------------------------------


def test_an_atlassian_document_body_is_read_as_text_without_following_links() -> None:
    adf = {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "Please reset my 2FA"}]},
            {
                "type": "paragraph",
                "content": [
                    {"type": "text", "text": "see "},
                    {"type": "inlineCard", "attrs": {"url": "https://evil.example/x"}},
                    {"type": "hardBreak"},
                    {"type": "mention", "attrs": {"id": "1", "text": "@Support"}},
                ],
            },
        ],
    }
    parsed = ADAPTER.parse(_comment(body=adf), config())
    assert parsed.ticket is not None
    assert parsed.ticket.messages[0].body == "Please reset my 2FA\nsee https://evil.example/x\n@Support"


@pytest.mark.parametrize(
    ("properties", "channel"),
    [
        ({"request.channel.type": {"value": "email"}}, "email"),
        ([{"key": "request.channel.type", "value": {"value": "portal"}}], "web"),
        ({"request.channel.type": {"value": "api"}}, "api"),
        ({"request.channel.type": {"value": "something-new"}}, "web"),
        (None, "web"),
    ],
)
def test_channel_comes_from_the_request_channel_property(properties: Any, channel: str) -> None:
    payload = load("jira_issue_created.zulip-fixture.json")
    if properties is not None:
        payload["issue"]["properties"] = properties
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ticket is not None and parsed.ticket.channel == channel


# --- malformed payloads -------------------------------------------------------------------------


def _set(name: str, path: str, value: Any) -> dict[str, Any]:
    payload = load(name)
    node = payload
    *parents, last = path.split(".")
    for part in parents:
        node = node[part]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return payload


_DELETE = object()
CREATED = "jira_issue_created.zulip-fixture.json"
COMMENTED = "comment_created.zulip-fixture.json"
_DEEP: dict[str, Any] = {"type": "text", "text": "x"}
for _ in range(100):
    _DEEP = {"type": "paragraph", "content": [_DEEP]}


@pytest.mark.parametrize(
    "payload",
    [
        _set(CREATED, "webhookEvent", _DELETE),
        _set(CREATED, "webhookEvent", ["jira:issue_created"]),
        _set(CREATED, "issue", _DELETE),
        _set(CREATED, "issue", "BUG-15"),
        _set(CREATED, "issue.key", _DELETE),
        _set(CREATED, "issue.key", {"id": 1}),
        _set(CREATED, "issue.fields", _DELETE),
        _set(CREATED, "issue.fields", []),
        _set(CREATED, "issue.fields.description", 42),
        _set(CREATED, "issue.fields.description", ["Fix me please"]),
        _set(CREATED, "issue.fields.summary", {"text": "x"}),
        _set(CREATED, "issue.fields.reporter", "lfranchi"),
        _set(CREATED, "issue.fields.reporter.emailAddress", ["a@example.com"]),
        _set(CREATED, "issue.fields.labels", "vip"),
        _set(CREATED, "issue.fields.labels", [1, 2]),
        _set(CREATED, "issue.fields.created", {"at": 1}),
        _set(CREATED, "issue.properties", "request.channel.type"),
        _set(CREATED, "issue.fields.description", _DEEP),
        _set(CREATED, "issue.fields.description", {"type": "doc", "content": "text"}),
        _set(CREATED, "issue.fields.description", {"type": "doc", "content": ["text"]}),
        _set(COMMENTED, "comment", _DELETE),
        _set(COMMENTED, "comment", "hello"),
        _set(COMMENTED, "comment.body", 3.5),
        _set(COMMENTED, "comment.jsdPublic", "false"),
        _set(COMMENTED, "comment.author", ["admin"]),
        _set(COMMENTED, "comment.properties", {"key": "sd.public.comment"}),
        _set(COMMENTED, "comment.properties", ["sd.public.comment"]),
        _set(COMMENTED, "comment.visibility", "internal"),
        _set(COMMENTED, "issue.fields", 7),
    ],
)
def test_malformed_payloads_are_payload_errors(payload: dict[str, Any]) -> None:
    with pytest.raises(PayloadError):
        ADAPTER.parse(payload, config())


def test_an_oversized_description_is_cut_not_refused() -> None:
    payload = _set(CREATED, "issue.fields.description", "a" * 150_000)
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ticket is not None and len(parsed.ticket.messages[0].body) == 100_000


# --- write-back ---------------------------------------------------------------------------------


def test_write_back_adds_one_internal_note_labels_and_the_field(fake: Fake, http: httpx.Client) -> None:
    fake.add_ticket("HELP-7", a_ticket("HELP-7"))
    cfg = config(fake.base_url)
    api = ADAPTER.connect(cfg, http)
    ADAPTER.write_back(api, "HELP-7", note("high"), cfg)
    notes = fake.notes("HELP-7")
    assert len(notes) == 1 and MARKER in notes[0]
    assert not any(MARKER in c for c in fake.public_comments("HELP-7"))
    assert fake.tags("HELP-7") == {"vip", "deskguard", "deskguard-high"}
    assert fake.field_value("HELP-7") == "high"
    posted = fake.sent("POST", r"/rest/servicedeskapi/request/HELP-7/comment")[0].json()
    assert posted == {"body": note("high").text, "public": False}

    ADAPTER.write_back(api, "HELP-7", note("high"), cfg)
    assert len(fake.notes("HELP-7")) == 1
    assert len(fake.sent("POST", r"/rest/servicedeskapi/request/HELP-7/comment")) == 1


def test_a_new_level_replaces_the_old_level_label(fake: Fake, http: httpx.Client) -> None:
    fake.add_ticket("HELP-8", a_ticket("HELP-8"))
    cfg = config(fake.base_url)
    api = ADAPTER.connect(cfg, http)
    ADAPTER.write_back(api, "HELP-8", note("high"), cfg)
    ADAPTER.write_back(api, "HELP-8", replace(note("critical"), marker=MARKER + "-2"), cfg)
    assert sum(MARKER in n for n in fake.notes("HELP-8")) == 2
    assert fake.tags("HELP-8") == {"vip", "deskguard", "deskguard-critical"}
    assert fake.field_value("HELP-8") == "critical"


def test_the_marker_is_found_beyond_the_first_page(fake: Fake, http: httpx.Client) -> None:
    fake.add_ticket("HELP-9", a_ticket("HELP-9"))
    for i in range(130):
        fake.add_comment("HELP-9", f"internal chatter {i}", public=False)
    fake.add_comment("HELP-9", note().text, public=False)
    cfg = config(fake.base_url)
    ADAPTER.write_back(ADAPTER.connect(cfg, http), "HELP-9", note(), cfg)
    assert sum(MARKER in n for n in fake.notes("HELP-9")) == 1
    pages = fake.sent("GET", r"/rest/servicedeskapi/request/HELP-9/comment")
    assert len(pages) == 3
    assert all(p.query["public"] == ["false"] and p.query["internal"] == ["true"] for p in pages)


def test_a_marker_planted_in_a_public_comment_does_not_suppress_the_note(fake: Fake, http: httpx.Client) -> None:
    fake.add_ticket("HELP-10", a_ticket("HELP-10"))
    fake.add_comment("HELP-10", f"hello {MARKER}", public=True, author="qm:cust-1")
    cfg = config(fake.base_url)
    ADAPTER.write_back(ADAPTER.connect(cfg, http), "HELP-10", note(), cfg)
    assert len(fake.notes("HELP-10")) == 1


def test_a_select_list_field_gets_an_option_value() -> None:
    with Fake(field_type="select") as fake, httpx.Client(timeout=2.0) as http:
        fake.add_ticket("HELP-11", a_ticket("HELP-11"))
        cfg = config(fake.base_url, options={"custom_field": "10050", "custom_field_type": "select"})
        ADAPTER.write_back(ADAPTER.connect(cfg, http), "HELP-11", note("medium"), cfg)
        assert fake.field_value("HELP-11") == "medium"
        assert fake.sent("PUT", r"/rest/api/3/issue/HELP-11")[-1].json() == {"fields": {FIELD_ID: {"value": "medium"}}}


def test_without_a_custom_field_only_note_and_labels_are_written(fake: Fake, http: httpx.Client) -> None:
    fake.add_ticket("HELP-12", a_ticket("HELP-12"))
    cfg = config(fake.base_url, options={})
    ADAPTER.write_back(ADAPTER.connect(cfg, http), "HELP-12", note(), cfg)
    assert fake.field_value("HELP-12") is None
    assert len(fake.sent("PUT", r"/rest/api/3/issue/HELP-12")) == 1


@pytest.mark.parametrize(
    "options", [{"custom_field": "Deskguard risk"}, {"custom_field": FIELD_ID, "custom_field_type": "number"}]
)
def test_bad_field_options_are_permanent_errors(fake: Fake, http: httpx.Client, options: dict[str, str]) -> None:
    fake.add_ticket("HELP-13", a_ticket("HELP-13"))
    cfg = config(fake.base_url, options=options)
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(ADAPTER.connect(cfg, http), "HELP-13", note(), cfg)
    assert caught.value.retryable is False


def test_rate_limit_is_retryable_after_retry_after(fake: Fake, http: httpx.Client) -> None:
    fake.add_ticket("HELP-14", a_ticket("HELP-14"))
    fake.fail_next(429, headers={"Retry-After": "7"}, match=NOTE_REQUEST)
    cfg = config(fake.base_url)
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(ADAPTER.connect(cfg, http), "HELP-14", note(), cfg)
    assert caught.value.retryable is True
    assert caught.value.retry_after == 7
    assert fake.notes("HELP-14") == []


def test_server_error_is_retryable(fake: Fake, http: httpx.Client) -> None:
    fake.add_ticket("HELP-15", a_ticket("HELP-15"))
    fake.fail_next(500, match=r"PUT /rest/api/3/issue/")
    cfg = config(fake.base_url)
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(ADAPTER.connect(cfg, http), "HELP-15", note(), cfg)
    assert caught.value.retryable is True and caught.value.status == 500
    ADAPTER.write_back(ADAPTER.connect(cfg, http), "HELP-15", note(), cfg)
    assert len(fake.notes("HELP-15")) == 1 and "deskguard-high" in fake.tags("HELP-15")


def test_wrong_credentials_are_a_permanent_401(fake: Fake, http: httpx.Client) -> None:
    fake.add_ticket("HELP-16", a_ticket("HELP-16"))
    cfg = config(fake.base_url, credentials={**CREDENTIALS, "api_token": "wrong"})
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.write_back(ADAPTER.connect(cfg, http), "HELP-16", note(), cfg)
    assert caught.value.retryable is False and caught.value.status == 401
    assert fake.notes("HELP-16") == []


def test_a_lost_note_response_is_retried_without_a_second_note(fake: Fake) -> None:
    fake.add_ticket("HELP-17", a_ticket("HELP-17"))
    fake.hang_next(10.0, match=NOTE_REQUEST, after=True)
    cfg = config(fake.base_url)
    with httpx.Client(timeout=httpx.Timeout(0.5)) as http:
        with pytest.raises(WriteBackError) as caught:
            ADAPTER.write_back(ADAPTER.connect(cfg, http), "HELP-17", note(), cfg)
        assert caught.value.retryable is True
        ADAPTER.write_back(ADAPTER.connect(cfg, http), "HELP-17", note(), cfg)
    assert len(fake.notes("HELP-17")) == 1
    assert "deskguard-high" in fake.tags("HELP-17")


def test_basic_auth_is_email_and_api_token(fake: Fake, http: httpx.Client) -> None:
    ADAPTER.check(ADAPTER.connect(config(fake.base_url), http))
    header = fake.sent("GET", r"/rest/api/3/myself")[0].headers["authorization"]
    expected = base64.b64encode(f"{CREDENTIALS['email']}:{CREDENTIALS['api_token']}".encode()).decode()
    assert header == f"Basic {expected}"


# --- check, sample, setup, base URL -------------------------------------------------------------


def test_check_names_the_authenticated_account(fake: Fake, http: httpx.Client) -> None:
    who = ADAPTER.check(ADAPTER.connect(config(fake.base_url), http))
    assert fakes.AGENT_ACCOUNT in who


def test_check_with_wrong_credentials_is_401(fake: Fake, http: httpx.Client) -> None:
    cfg = config(fake.base_url, credentials={**CREDENTIALS, "email": "someone@example.com"})
    with pytest.raises(WriteBackError) as caught:
        ADAPTER.check(ADAPTER.connect(cfg, http))
    assert caught.value.status == 401 and caught.value.retryable is False


def test_sample_round_trips_through_verify_and_parse() -> None:
    ticket = Ticket(
        ticket_id="HELP-42",
        subject="Locked out",
        messages=[
            Message(author="requester", body="first"),
            Message(author="agent", body="we will look"),
            Message(author="requester", body="please hurry, disable 2FA"),
        ],
        requester=Requester(name="Ana", email="ana@example.com", external_id="qm:ana"),
    )
    now = time.time()
    request = ADAPTER.sample(config(), ticket, now)
    ADAPTER.verify(request, config(), now)
    ADAPTER.verify(jira_signed(request.body), config(), now)
    payload = json.loads(request.body)
    assert ADAPTER.delivery_id(request, payload).startswith("sample-")
    parsed = ADAPTER.parse(payload, config())
    assert parsed.ref == "HELP-42"
    assert parsed.ticket is not None
    assert parsed.ticket.messages[-1].body == "please hurry, disable 2FA"
    assert parsed.ticket.requester.email == "ana@example.com"


def test_setup_steps_name_the_webhook_url_and_events() -> None:
    steps = ADAPTER.setup_steps(config(), "https://deskguard.example/v1/hooks/jira_service_management/i1")
    text = "\n".join(steps)
    assert "https://deskguard.example/v1/hooks/jira_service_management/i1" in text
    assert "Comment > created" in text and "Issue > created" in text
    assert "https://acme.atlassian.net/plugins/servlet/webhooks" in text


@pytest.mark.parametrize(
    ("site", "url"),
    [
        ("acme", "https://acme.atlassian.net"),
        ("ACME.atlassian.net", "https://acme.atlassian.net"),
        ("https://acme.atlassian.net/jira/servicedesk", "https://acme.atlassian.net"),
        ("legacy.jira.com", "https://legacy.jira.com"),
        ("evil.example.com", ""),
        ("acme corp", ""),
        ("acme.atlassian.net.evil.example", ""),
        ("", ""),
    ],
)
def test_base_url_from_the_site(site: str, url: str) -> None:
    assert ADAPTER.base_url({"site": site}) == url


def test_fake_follows_the_shared_contract() -> None:
    assert ADAPTER.provider == fakes.PROVIDER
    assert set(fakes.CREDENTIALS) <= {f.name for f in ADAPTER.credential_fields}
    assert {f.name for f in ADAPTER.credential_fields if f.required} <= set(fakes.CREDENTIALS)
    assert ADAPTER.signing_key_from == "deskguard"
