"""The API fixtures, with outgoing mail going to a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller

from app.settings import Settings
from tests.api.conftest import TEST_ENCRYPTION_KEY, api_db_url, auth, client, new_tenant  # noqa: F401
from tests.smtp import Inbox, inbox, smtp_server  # noqa: F401


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
        log_level="DEBUG",
        log_json=True,
    )
