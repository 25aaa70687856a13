"""App authentication: Zendesk signed URLs (RS256), the shared-secret HS256 option, and banner sessions."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from fastapi.testclient import TestClient
from jose import jwt

from app.banner.auth import BANNER_AUDIENCE
from app.settings import Settings
from tests.banner.conftest import APP_SECRET, ZENDESK_AUD, ZENDESK_ISS

ZendeskApp = Callable[[], tuple[str, str]]


def zendesk_token(private_pem: str, **over: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {"iss": ZENDESK_ISS, "aud": ZENDESK_AUD, "sub": 9001, "iat": now, "exp": now + 300}
    claims.update(over)
    return str(jwt.encode(claims, private_pem, algorithm="RS256"))


def exchange(
    client: TestClient, integration_id: str, token: str, kind: str = "zendesk_signed_url", ticket: str = "42"
) -> httpx.Response:
    return client.post(
        "/v1/banner/app-session",
        json={"integration_id": integration_id, "kind": kind, "token": token, "ticket_id": ticket},
    )


def test_zendesk_signed_url_gives_a_banner_session(
    client: TestClient, zendesk_app: ZendeskApp, rsa_keys: tuple[str, str], settings: Settings
) -> None:
    tenant, integration = zendesk_app()
    r = exchange(client, integration, zendesk_token(rsa_keys[0]))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["tenant"] == tenant and body["ticket_id"] == "zendesk:42"
    assert 0 < body["expires_in"] <= 900
    claims = jwt.decode(body["token"], settings.jwt_secret, algorithms=["HS256"], audience=BANNER_AUDIENCE)
    assert claims["tenant"] == tenant and claims["ticket_id"] == "zendesk:42" and claims["sub"] == "zendesk:9001"
    assert claims["exp"] - claims["iat"] == 900


def test_hs256_token_signed_with_the_public_key_is_refused(
    client: TestClient, zendesk_app: ZendeskApp, rsa_keys: tuple[str, str]
) -> None:
    _, integration = zendesk_app()
    now = int(time.time())
    claims = {"iss": ZENDESK_ISS, "aud": ZENDESK_AUD, "sub": 1, "exp": now + 300}
    # python-jose refuses a PEM as an HMAC key, so sign the confusion token by hand, as an attacker would.
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims).encode())
    sig = hmac.new(rsa_keys[1].encode(), head.encode(), hashlib.sha256).digest()
    r = exchange(client, integration, head + "." + b64(sig))
    assert r.status_code == 401 and r.json()["code"] == "token_algorithm_not_allowed"


def test_wrong_audience_expired_and_wrong_issuer_are_refused(
    client: TestClient, zendesk_app: ZendeskApp, rsa_keys: tuple[str, str]
) -> None:
    _, integration = zendesk_app()
    private = rsa_keys[0]
    r = exchange(client, integration, zendesk_token(private, aud="https://acme.zendesk.com/other"))
    assert r.status_code == 401 and r.json()["code"] == "token_wrong_audience"
    r = exchange(client, integration, zendesk_token(private, exp=int(time.time()) - 3600))
    assert r.status_code == 401 and r.json()["code"] == "token_expired"
    r = exchange(client, integration, zendesk_token(private, iss="https://evil.zendesk.com"))
    assert r.status_code == 401 and r.json()["code"] == "token_invalid"
    r = exchange(client, integration, "not-a-jwt")
    assert r.status_code == 401 and r.json()["code"] == "token_invalid"


def test_token_from_another_key_is_refused(client: TestClient, zendesk_app: ZendeskApp) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    _, integration = zendesk_app()
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    r = exchange(client, integration, zendesk_token(other.decode()))
    assert r.status_code == 401 and r.json()["code"] == "token_invalid"


def shared(claims: dict[str, Any], secret: str = APP_SECRET, alg: str = "HS256") -> str:
    now = int(time.time())
    claims = {"aud": BANNER_AUDIENCE, "sub": "agent-7", "exp": now + 300, **claims}
    return str(jwt.encode(claims, secret, algorithm=alg))


def test_shared_secret_option(client: TestClient, zendesk_app: ZendeskApp) -> None:
    tenant, integration = zendesk_app()
    ok = exchange(client, integration, shared({"tenant": tenant, "ticket_id": "42"}), kind="shared_secret")
    assert ok.status_code == 201, ok.text
    assert ok.json()["tenant"] == tenant
    bad = exchange(client, integration, shared({}, secret="wrong" * 8), kind="shared_secret")
    assert bad.status_code == 401 and bad.json()["code"] == "token_invalid"
    alg = exchange(client, integration, shared({}, alg="HS512"), kind="shared_secret")
    assert alg.status_code == 401 and alg.json()["code"] == "token_algorithm_not_allowed"


def test_other_tenant_and_other_ticket_are_refused(client: TestClient, zendesk_app: ZendeskApp) -> None:
    _, integration = zendesk_app()
    r = exchange(client, integration, shared({"tenant": "t-someone-else"}), kind="shared_secret")
    assert r.status_code == 403 and r.json()["code"] == "tenant_mismatch"
    r = exchange(client, integration, shared({"ticket_id": "99"}), kind="shared_secret", ticket="42")
    assert r.status_code == 403 and r.json()["code"] == "ticket_mismatch"


def test_dev_session_needs_agent_or_admin(
    client: TestClient, new_tenant: Callable[..., str], auth: Callable[..., dict[str, str]]
) -> None:
    tenant = new_tenant()
    assert client.post("/v1/banner/session", json={"ticket_id": "x"}).json()["code"] == "token_missing"
    r = client.post("/v1/banner/session", headers=auth(tenant, "trainer"), json={"ticket_id": "x"})
    assert r.status_code == 403
    r = client.post("/v1/banner/session", headers=auth(tenant, "admin"), json={"ticket_id": "x"})
    assert r.status_code == 201 and r.json()["tenant"] == tenant


def test_api_token_is_not_a_banner_session(
    client: TestClient, new_tenant: Callable[..., str], auth: Callable[..., dict[str, str]]
) -> None:
    tenant = new_tenant()
    r = client.get("/v1/banner/assessment", params={"ticket_id": "x"}, headers=auth(tenant, "agent"))
    assert r.status_code == 401 and r.json()["code"] == "token_wrong_audience"
