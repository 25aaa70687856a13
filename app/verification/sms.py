"""SMS one-time codes through a provider: Twilio Verify in production, an in-memory double for development.

The provider generates, sends and checks the code; Deskguard keeps only the provider's reference and
enforces attempts, expiry and single use itself. Nothing here logs a phone number or a code.
"""

from __future__ import annotations

import secrets
import threading
from typing import Protocol

import httpx

from app.errors import ConfigError, DeskguardError
from app.settings import Settings


class SmsUnavailable(DeskguardError):
    status_code = 503
    code = "sms_unavailable"


class SmsProvider(Protocol):
    def start(self, to: str) -> str:
        """Send a code to `to` (E.164); return the provider's reference for this verification."""
        ...

    def check(self, reference: str, code: str) -> bool:
        """True when `code` is the one sent for `reference`."""
        ...


class TwilioVerifyProvider:
    """Twilio Verify v2: POST /v2/Services/{sid}/Verifications (To, Channel=sms), then
    POST /v2/Services/{sid}/VerificationCheck (VerificationSid, Code) -> {"status": "approved"|"pending"}."""

    def __init__(
        self, account_sid: str, auth_token: str, service_sid: str, base_url: str, client: httpx.Client | None = None
    ) -> None:
        if not (account_sid and auth_token and service_sid):
            raise ConfigError("Twilio Verify needs DESKGUARD_TWILIO_ACCOUNT_SID, _AUTH_TOKEN and _VERIFY_SERVICE_SID")
        self._auth = (account_sid, auth_token)
        self._base = f"{base_url.rstrip('/')}/v2/Services/{service_sid}"
        self._client = client or httpx.Client(timeout=httpx.Timeout(10.0, connect=3.0))

    def _post(self, path: str, form: dict[str, str]) -> httpx.Response:
        try:
            return self._client.post(f"{self._base}/{path}", data=form, auth=self._auth)
        except httpx.HTTPError as exc:
            raise SmsUnavailable(f"the SMS provider did not answer ({type(exc).__name__})") from None

    def start(self, to: str) -> str:
        response = self._post("Verifications", {"To": to, "Channel": "sms"})
        if response.status_code not in (200, 201):
            raise SmsUnavailable(f"the SMS provider refused the verification (HTTP {response.status_code})")
        sid = _json_field(response, "sid")
        if not sid:
            raise SmsUnavailable("the SMS provider's answer had no verification sid")
        return sid

    def check(self, reference: str, code: str) -> bool:
        response = self._post("VerificationCheck", {"VerificationSid": reference, "Code": code})
        if response.status_code == 404:  # Twilio: the verification expired, was approved or was cancelled
            return False
        if response.status_code != 200:
            raise SmsUnavailable(f"the SMS provider could not check the code (HTTP {response.status_code})")
        return _json_field(response, "status") == "approved"


def _json_field(response: httpx.Response, name: str) -> str:
    try:
        value = response.json().get(name)
    except (ValueError, AttributeError):
        return ""
    return value if isinstance(value, str) else ""


class DevSmsProvider:
    """Development double: sends nothing, keeps the last code per number in memory (read by tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._codes: dict[str, str] = {}  # reference -> code
        self._last: dict[str, str] = {}  # number -> last code
        self.sent_to: list[str] = []

    def start(self, to: str) -> str:
        code = f"{secrets.randbelow(10**6):06d}"
        reference = f"dev-{secrets.token_hex(8)}"
        with self._lock:
            self._codes[reference] = code
            self._last[to] = code
            self.sent_to.append(to)
        return reference

    def check(self, reference: str, code: str) -> bool:
        with self._lock:
            expected = self._codes.get(reference)
        return expected is not None and secrets.compare_digest(expected, code)

    def last_code(self, to: str) -> str | None:
        with self._lock:
            return self._last.get(to)


def provider_from_settings(settings: Settings) -> SmsProvider:
    if settings.sms_provider == "twilio":
        return TwilioVerifyProvider(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            settings.twilio_verify_service_sid,
            settings.twilio_base_url,
        )
    if settings.env == "production":
        raise ConfigError("DESKGUARD_SMS_PROVIDER=dev sends nothing: set it to twilio in production")
    return DevSmsProvider()
