"""SMS codes: the development provider through the API, and Twilio Verify against a local fake of its API."""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs

import pytest
from fastapi.testclient import TestClient

from app.core.engine import Assessor
from app.errors import ConfigError
from app.main import create_app
from app.runtime import Runtime
from app.settings import Settings
from app.verification.sms import DevSmsProvider, SmsUnavailable, TwilioVerifyProvider, provider_from_settings
from tests.integrations.fakeserver import FakeHelpdesk, Recorded, Reply

Auth = Callable[..., dict[str, str]]
PHONE = "+14155550100"
ACCOUNT_SID = "AC" + "a" * 32
AUTH_TOKEN = "twilio-auth-token-" + "z" * 14
SERVICE_SID = "VA" + "b" * 32


class FakeTwilioVerify:
    """The two documented Verify v2 endpoints: start a verification, check a code."""

    def __init__(self, fake: FakeHelpdesk) -> None:
        self.codes: dict[str, tuple[str, str]] = {}  # verification sid -> (to, code)
        base = f"/v2/Services/{SERVICE_SID}"

        @fake.route("POST", base + "/Verifications")
        def start(rec: Recorded, _: re.Match[str]) -> Reply:
            form = {k: v[0] for k, v in parse_qs(rec.body.decode()).items()}
            sid = "VE" + secrets.token_hex(16)
            self.codes[sid] = (form["To"], f"{secrets.randbelow(10**6):06d}")
            body = {"sid": sid, "service_sid": SERVICE_SID, "account_sid": ACCOUNT_SID, "to": form["To"]}
            return Reply(201, {**body, "channel": form["Channel"], "status": "pending", "valid": False})

        @fake.route("POST", base + "/VerificationCheck")
        def check(rec: Recorded, _: re.Match[str]) -> Reply:
            form = {k: v[0] for k, v in parse_qs(rec.body.decode()).items()}
            sid = form["VerificationSid"]
            if sid not in self.codes:
                return Reply(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})
            to, code = self.codes[sid]
            approved = form["Code"] == code
            if approved:
                del self.codes[sid]  # Twilio: an approved verification is gone (404 afterwards)
            status = "approved" if approved else "pending"
            return Reply(200, {"sid": sid, "to": to, "channel": "sms", "status": status, "valid": approved})

    def code_for(self, to: str) -> str:
        return next(code for number, code in self.codes.values() if number == to)


@pytest.fixture
def twilio() -> Iterator[tuple[FakeHelpdesk, FakeTwilioVerify]]:
    with FakeHelpdesk() as fake:
        yield fake, FakeTwilioVerify(fake)


def put_account(client: TestClient, h: dict[str, str], phones: list[str] | None = None) -> None:
    body = {"name": "Jamie", "emails": ["jamie@example.com"], "phones": [PHONE] if phones is None else phones}
    assert client.put("/v1/accounts/acc-1", headers=h, json=body).status_code == 200


def send(client: TestClient, h: dict[str, str], **body: object) -> dict:
    r = client.post("/v1/accounts/acc-1/verifications/sms-code", headers=h, json={"ticket_id": "T-9", **body})
    assert r.status_code == 201, r.text
    return r.json()


def check(client: TestClient, h: dict[str, str], challenge_id: str, code: str) -> tuple[int, dict]:
    r = client.post(f"/v1/verification-challenges/{challenge_id}/check", headers=h, json={"code": code})
    return r.status_code, r.json()


def other(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_dev_provider_through_the_api(client: TestClient, new_tenant: Callable[..., str], auth: Auth) -> None:
    dev = DevSmsProvider()
    client.app.state.sms_provider = dev  # type: ignore[attr-defined]
    h = auth(new_tenant())
    put_account(client, h)
    sent = send(client, h, phone="+15550000000")  # unknown fields cannot redirect the code
    assert (sent["method"], sent["sent_to"], sent["attempts_left"]) == ("sms_code", "***0100", 5)
    assert dev.sent_to == [PHONE]
    code = dev.last_code(PHONE)
    assert code is not None
    status, body = check(client, h, sent["challenge_id"], other(code))
    assert (status, body["code"], body["details"]["attempts_left"]) == (422, "code_invalid", 4)
    status, body = check(client, h, sent["challenge_id"], code)
    assert status == 200 and body["method"] == "sms_code" and body["status"] == "satisfied"
    status, body = check(client, h, sent["challenge_id"], code)
    assert (status, body["code"]) == (409, "code_used")


def test_no_phone_on_file(client: TestClient, new_tenant: Callable[..., str], auth: Auth) -> None:
    dev = DevSmsProvider()
    client.app.state.sms_provider = dev  # type: ignore[attr-defined]
    h = auth(new_tenant())
    put_account(client, h, phones=[])
    r = client.post("/v1/accounts/acc-1/verifications/sms-code", headers=h, json={"ticket_id": "T-9"})
    assert (r.status_code, r.json()["code"]) == (422, "contact_not_on_file")
    assert dev.sent_to == []


@pytest.fixture
def twilio_client(
    settings: Settings, assessor: Assessor, twilio: tuple[FakeHelpdesk, FakeTwilioVerify]
) -> Iterator[TestClient]:
    fake, _ = twilio
    configured = settings.model_copy(
        update={
            "sms_provider": "twilio",
            "twilio_account_sid": ACCOUNT_SID,
            "twilio_auth_token": AUTH_TOKEN,
            "twilio_verify_service_sid": SERVICE_SID,
            "twilio_base_url": fake.base_url,
        }
    )
    runtime = Runtime.start(configured, assessor=assessor)
    try:
        with TestClient(create_app(configured, runtime)) as c:
            yield c
    finally:
        runtime.close()


def test_twilio_verify_through_the_api(
    twilio_client: TestClient,
    twilio: tuple[FakeHelpdesk, FakeTwilioVerify],
    new_tenant: Callable[..., str],
    auth: Auth,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake, verify = twilio
    h = auth(new_tenant())
    put_account(twilio_client, h)
    sent = send(twilio_client, h)
    code = verify.code_for(PHONE)
    (verification_sid,) = verify.codes

    (start,) = fake.sent("POST", f"/v2/Services/{SERVICE_SID}/Verifications")
    assert parse_qs(start.body.decode()) == {"To": [PHONE], "Channel": ["sms"]}
    assert start.headers["content-type"] == "application/x-www-form-urlencoded"
    expected_auth = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert start.headers["authorization"] == expected_auth

    status, body = check(twilio_client, h, sent["challenge_id"], other(code))
    assert (status, body["code"]) == (422, "code_invalid")
    status, body = check(twilio_client, h, sent["challenge_id"], code)
    assert status == 200 and body["status"] == "satisfied", body
    checks = fake.sent("POST", f"/v2/Services/{SERVICE_SID}/VerificationCheck")
    assert [parse_qs(c.body.decode())["Code"] for c in checks] == [[other(code)], [code]]
    assert all(c.headers["authorization"] == expected_auth for c in checks)
    assert {parse_qs(c.body.decode())["VerificationSid"][0] for c in checks} == {verification_sid}

    # Replay is refused by Deskguard itself, without asking Twilio again.
    status, body = check(twilio_client, h, sent["challenge_id"], code)
    assert (status, body["code"]) == (409, "code_used")
    assert len(fake.sent("POST", f"/v2/Services/{SERVICE_SID}/VerificationCheck")) == 2
    output = capsys.readouterr().out
    assert code not in output and AUTH_TOKEN not in output and PHONE not in output


def test_twilio_outage_is_a_503_and_spends_no_attempt(
    twilio_client: TestClient,
    twilio: tuple[FakeHelpdesk, FakeTwilioVerify],
    new_tenant: Callable[..., str],
    auth: Auth,
) -> None:
    fake, verify = twilio
    h = auth(new_tenant())
    put_account(twilio_client, h)
    fake.fail_next(500, match="Verifications")
    r = twilio_client.post("/v1/accounts/acc-1/verifications/sms-code", headers=h, json={"ticket_id": "T-9"})
    assert (r.status_code, r.json()["code"]) == (503, "sms_unavailable")
    sent = send(twilio_client, h)
    fake.fail_next(503, match="VerificationCheck")
    status, body = check(twilio_client, h, sent["challenge_id"], verify.code_for(PHONE))
    assert (status, body["code"]) == (503, "sms_unavailable")
    status, body = check(twilio_client, h, sent["challenge_id"], verify.code_for(PHONE))
    assert status == 200, body


def test_twilio_provider_unknown_verification_is_not_approved(twilio: tuple[FakeHelpdesk, FakeTwilioVerify]) -> None:
    fake, _ = twilio
    provider = TwilioVerifyProvider(ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID, fake.base_url)
    assert provider.check("VE" + "0" * 32, "123456") is False
    fake.fail_next(401)
    with pytest.raises(SmsUnavailable):
        provider.start(PHONE)


def test_provider_from_settings_fails_closed() -> None:
    assert isinstance(provider_from_settings(Settings(env="test")), DevSmsProvider)
    with pytest.raises(ConfigError):
        provider_from_settings(Settings(env="test", sms_provider="twilio"))
    with pytest.raises(ConfigError):
        provider_from_settings(Settings(env="production", jwt_secret="p" * 40))
    twilio = Settings(
        env="test",
        sms_provider="twilio",
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_verify_service_sid=SERVICE_SID,
    )
    assert isinstance(provider_from_settings(twilio), TwilioVerifyProvider)
