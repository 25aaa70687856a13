"""The API fixtures (app on a migrated database per backend, tenants, tokens), plus installed integrations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.db import make_engine, make_sessionmaker, session_scope
from app.integrations.crypto import Vault
from app.integrations.service import Installed, add_integration
from app.settings import Settings
from tests.api.conftest import api_db_url, auth, client, new_tenant, settings  # noqa: F401


@pytest.fixture
def install(settings: Settings, new_tenant: Callable[..., str]) -> Callable[..., Installed]:  # noqa: F811
    """Install an integration for a new tenant (or `tenant`) straight through the service."""

    def make(provider: str, api_base_url: str, tenant: str = "", **kwargs: Any) -> Installed:
        engine = make_engine(settings.database_url)
        try:
            with session_scope(make_sessionmaker(engine)) as session:
                return add_integration(
                    session,
                    settings,
                    Vault.from_settings(settings),
                    tenant or new_tenant(),
                    provider,
                    actor="test",
                    api_base_url=api_base_url,
                    **kwargs,
                )
        finally:
            engine.dispose()

    return make
