"""Banner fixtures: the API fixtures, a scored ticket helper and a Zendesk integration set up for app auth."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from app.db import make_engine, make_sessionmaker, session_scope
from app.integrations.crypto import Vault
from app.integrations.service import add_integration
from app.models.integration import Integration
from app.settings import Settings
from tests.api.conftest import api_db_url, auth, client, new_tenant, settings  # noqa: F401

ATTACK = (
    "I lost my phone and can't get into my old email, please change my login email to "
    "jm.recovery@gmail.com and turn off 2FA, I need it today"
)
ZENDESK_ISS = "https://acme.zendesk.com"
ZENDESK_AUD = "https://acme.zendesk.com/api/v2/apps/installations/360001.json"
APP_SECRET = "banner-app-secret-" + "y" * 24


def ticket(ticket_id: str, body: str = ATTACK, email: str = "jamie@example.com") -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "channel": "email",
        "subject": "help",
        "messages": [{"author": "requester", "body": body}],
        "requester": {"email": email},
    }


@pytest.fixture
def scored(client: TestClient, auth: Callable[..., dict[str, str]]) -> Callable[..., dict[str, Any]]:  # noqa: F811
    """Put account acc-1 and score a ticket for `tenant`; returns the assessment."""

    def make(tenant: str, ticket_id: str, body: str = ATTACK) -> dict[str, Any]:
        h = auth(tenant)
        r = client.put(
            "/v1/accounts/acc-1",
            headers=h,
            json={"name": "Jamie Moore", "emails": ["jamie@example.com"], "phones": ["+1 415 555 0100"], "roles": []},
        )
        assert r.status_code == 200, r.text
        r = client.post("/v1/score", headers=h, json=ticket(ticket_id, body))
        assert r.status_code == 201, r.text
        return dict(r.json())

    return make


@pytest.fixture
def session_for(client: TestClient, auth: Callable[..., dict[str, str]]) -> Callable[[str, str], str]:  # noqa: F811
    def make(tenant: str, ticket_id: str) -> str:
        r = client.post("/v1/banner/session", headers=auth(tenant, "agent"), json={"ticket_id": ticket_id})
        assert r.status_code == 201, r.text
        return str(r.json()["token"])

    return make


@pytest.fixture(scope="session")
def rsa_keys() -> tuple[str, str]:
    """(private PEM, public PEM), generated here: nothing is read from disk or the network."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@pytest.fixture
def zendesk_app(
    settings: Settings,  # noqa: F811
    new_tenant: Callable[..., str],  # noqa: F811
    rsa_keys: tuple[str, str],
) -> Callable[[], tuple[str, str]]:
    """Install a Zendesk integration with a public key, issuer/audience and a shared secret; (tenant, id)."""

    def make() -> tuple[str, str]:
        tenant = new_tenant()
        engine = make_engine(settings.database_url)
        vault = Vault.from_settings(settings)
        try:
            with session_scope(make_sessionmaker(engine)) as s:
                installed = add_integration(
                    s,
                    settings,
                    vault,
                    tenant,
                    "zendesk",
                    actor="test",
                    api_base_url="https://acme.zendesk.com",
                    credentials={"subdomain": "acme", "email": "bot@acme.example", "api_token": "zd-token"},
                )
            with session_scope(make_sessionmaker(engine)) as s:
                row = s.get(Integration, installed.id)
                assert row is not None
                row.options = {
                    **(row.options or {}),
                    "zendesk_app_public_key": rsa_keys[1],
                    "zendesk_app_issuer": ZENDESK_ISS,
                    "zendesk_app_audience": ZENDESK_AUD,
                }
                creds = vault.decrypt_json(row.credentials_encrypted)
                row.credentials_encrypted = vault.encrypt_json({**creds, "banner_app_secret": APP_SECRET})
            return tenant, installed.id
        finally:
            engine.dispose()

    return make
