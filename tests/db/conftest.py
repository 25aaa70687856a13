"""Fixtures for the repository tests: two tenants, so that every test can check isolation."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.tenants import repository as tenants


@pytest.fixture
def two_tenants(session: Session) -> tuple[str, str]:
    tenants.ensure_tenant(session, "acme", name="Acme", domains=["acme.example"])
    tenants.ensure_tenant(session, "globex", name="Globex")
    return "acme", "globex"
