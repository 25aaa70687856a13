"""An app wired to a migrated database (each backend) and the session's assessor, with token helpers."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from app.auth import issue_token
from app.core.engine import Assessor
from app.db import make_engine, make_sessionmaker, session_scope
from app.main import create_app
from app.runtime import Runtime
from app.settings import Settings
from app.tenants.repository import ensure_tenant
from tests.conftest import migrated_database

TEST_ENCRYPTION_KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="module")
def api_db_url(db_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database of the API tests' own: what they commit never reaches other tests."""
    with migrated_database(db_backend, tmp_path_factory.mktemp("api")) as url:
        yield url


@pytest.fixture
def settings(api_db_url: str) -> Settings:
    return Settings(
        env="test", database_url=api_db_url, jwt_secret="test-secret-" + "x" * 32, encryption_keys=TEST_ENCRYPTION_KEY
    )


@pytest.fixture
def client(settings: Settings, assessor: Assessor) -> Iterator[TestClient]:
    runtime = Runtime.start(settings, assessor=assessor)
    try:
        with TestClient(create_app(settings, runtime)) as c:
            yield c
    finally:
        runtime.close()


@pytest.fixture
def new_tenant(settings: Settings) -> Callable[..., str]:
    """Create a tenant with a unique id (tests share one database) and return its id."""

    def make(domains: tuple[str, ...] = (), playbook: str = "consumer") -> str:
        tenant_id = f"t-{uuid.uuid4().hex[:10]}"
        engine = make_engine(settings.database_url)
        with session_scope(make_sessionmaker(engine)) as s:
            ensure_tenant(s, tenant_id, domains=list(domains), playbook=playbook)
        engine.dispose()
        return tenant_id

    return make


@pytest.fixture
def auth(settings: Settings) -> Callable[..., dict[str, str]]:
    def headers(tenant: str, role: str = "service", subject: str = "tester") -> dict[str, str]:
        token = issue_token(settings, tenant=tenant, role=role, subject=subject)
        return {"Authorization": f"Bearer {token}"}

    return headers
