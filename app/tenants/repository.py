"""Tenant rows. Functions take a Session and never commit."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import insert_missing
from app.errors import InvalidInput
from app.models.tenant import DEFAULT_PLAYBOOK, Tenant

TENANT_ID = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,98}[a-z0-9])?$")


def _normalize_domains(domains: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for domain in domains:
        cleaned = domain.strip().lower().rstrip(".")
        if cleaned:
            seen.setdefault(cleaned, None)
    return list(seen)


def get_tenant(session: Session, tenant_id: str) -> Tenant | None:
    return session.get(Tenant, tenant_id)


def ensure_tenant(
    session: Session,
    tenant_id: str,
    *,
    name: str | None = None,
    domains: Iterable[str] | None = None,
    playbook: str | None = None,
) -> Tenant:
    """Create the tenant if it does not exist; update the fields given (not None) if it does.

    A new tenant's name defaults to its id, its playbook to "consumer".
    """
    if not TENANT_ID.match(tenant_id):
        raise InvalidInput(
            "tenant id must be a slug: lowercase letters, digits, dashes and underscores",
            details={"tenant": tenant_id},
        )
    normalized = _normalize_domains(domains) if domains is not None else None
    insert_missing(
        session,
        Tenant,
        {
            "id": tenant_id,
            "name": name if name is not None else tenant_id,
            "domains": normalized or [],
            "playbook": playbook or DEFAULT_PLAYBOOK,
        },
        ["id"],
    )
    stmt = select(Tenant).where(Tenant.id == tenant_id).with_for_update()
    tenant = session.scalars(stmt.execution_options(populate_existing=True)).one()
    if name is not None:
        tenant.name = name
    if normalized is not None:
        tenant.domains = normalized
    if playbook is not None:
        tenant.playbook = playbook
    session.flush()
    return tenant


def list_tenants(session: Session) -> list[Tenant]:
    return list(session.scalars(select(Tenant).order_by(Tenant.id)))
