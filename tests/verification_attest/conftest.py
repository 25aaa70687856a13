"""The API fixtures, outgoing mail to a real local SMTP server (aiosmtpd), and an account helper."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from app.audit import repository as audit
from app.db import make_engine, make_sessionmaker, session_scope
from app.settings import Settings
from tests.api.conftest import TEST_ENCRYPTION_KEY, api_db_url, auth, client, new_tenant  # noqa: F401
from tests.smtp import Inbox, inbox, smtp_server  # noqa: F401

PUBLIC_URL = "https://deskguard.test"


@pytest.fixture
def settings(api_db_url: str, smtp_server: tuple[Controller, Inbox]) -> Settings:  # noqa: F811
    controller, _ = smtp_server
    return Settings(
        env="test",
        database_url=api_db_url,
        jwt_secret="test-secret-" + "x" * 32,
        encryption_keys=TEST_ENCRYPTION_KEY,
        smtp_host="127.0.0.1",
        smtp_port=controller.port,
        public_url=PUBLIC_URL,
    )


@pytest.fixture
def account(
    client: TestClient,  # noqa: F811
    new_tenant: Callable[..., str],  # noqa: F811
    auth: Callable[..., dict[str, str]],  # noqa: F811
) -> Callable[..., str]:
    """A new tenant with account "A-1" on file (two emails, two phones); returns the tenant id."""

    def make() -> str:
        tenant = new_tenant()
        body = {
            "name": "Jane Doe",
            "emails": ["jane@example.com", "jane.backup@example.org"],
            "phones": ["+44 7700 900123", "+1 415 555 0188"],
        }
        r = client.put("/v1/accounts/A-1", json=body, headers=auth(tenant, "service"))
        assert r.status_code == 200, r.text
        return tenant

    return make


@pytest.fixture
def audit_log(settings: Settings) -> Callable[[str], list[tuple[str, str, dict[str, Any]]]]:
    """The tenant's audit trail, oldest first, as (event, subject_id, details)."""

    def read(tenant: str) -> list[tuple[str, str, dict[str, Any]]]:
        engine = make_engine(settings.database_url)
        try:
            with session_scope(make_sessionmaker(engine)) as s:
                entries = audit.list_entries(s, tenant, limit=1000)
                return [(e.event, e.subject_id, dict(e.details)) for e in reversed(entries)]
        finally:
            engine.dispose()

    return read
