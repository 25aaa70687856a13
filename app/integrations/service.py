"""Installing and administering helpdesk integrations. Functions take a Session and never commit.

Secrets are returned in clear exactly once, when Deskguard makes them (add, rotate); every other
view shows which credentials are set, never their values.
"""

from __future__ import annotations

import ipaddress
import secrets
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit import repository as audit
from app.errors import InvalidInput, NotFound
from app.integrations import outbox
from app.integrations.crypto import Vault
from app.models.integration import Delivery, Integration, OutboxItem
from app.settings import Settings
from app.tenants import repository as tenants
from integrations.protocol import Adapter, IntegrationConfig
from integrations.registry import PROVIDERS, adapter_for

COMMON_OPTIONS = ("ip_allowlist", "custom_field")
MAX_OPTION_CHARS = 500
_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


class IntegrationView(BaseModel):
    id: str
    tenant: str
    provider: str
    title: str
    name: str
    enabled: bool
    webhook_url: str
    api_base_url: str
    credentials_set: list[str]
    secret_set: bool
    options: dict[str, Any]
    outbox: dict[str, int]
    setup_steps: list[str]


class Installed(IntegrationView):
    secret: str  # shown once, when Deskguard made it; "" when the helpdesk makes it


def new_secret() -> str:
    """40 URL-safe characters (240 bits): the longest every helpdesk's secret field takes (Help Scout: 40)."""
    return secrets.token_urlsafe(30)


def require_adapter(provider: str) -> Adapter:
    adapter = adapter_for(provider)
    if adapter is None:
        raise NotFound(
            f"unknown helpdesk provider {provider!r}; expected one of {', '.join(PROVIDERS)}",
            code="provider_unknown",
        )
    return adapter


def webhook_url(settings: Settings, provider: str, integration_id: str) -> str:
    return f"{settings.public_url.rstrip('/')}/v1/hooks/{provider}/{integration_id}"


def _check_base_url(url: str, settings: Settings) -> str:
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput(f"API base URL {url!r} must be an absolute http(s) URL", code="api_base_url_invalid")
    if parts.scheme == "http" and settings.env == "production" and parts.hostname not in _LOOPBACK_HOSTS:
        raise InvalidInput("API base URL must use https", code="api_base_url_invalid")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise InvalidInput(
            "API base URL must not carry credentials, a query or a fragment", code="api_base_url_invalid"
        )
    return url


def _check_options(adapter: Adapter, options: Mapping[str, Any]) -> dict[str, Any]:
    allowed = (*COMMON_OPTIONS, *adapter.option_names)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise InvalidInput(
            f"unknown option(s) {', '.join(unknown)} for {adapter.provider}; allowed: {', '.join(allowed)}",
            code="option_unknown",
        )
    cleaned: dict[str, Any] = {}
    for key, value in options.items():
        if key == "ip_allowlist":
            items = value if isinstance(value, list) else str(value).split(",")
            networks = []
            for item in items:
                try:
                    networks.append(str(ipaddress.ip_network(str(item).strip(), strict=False)))
                except ValueError:
                    raise InvalidInput(
                        f"ip_allowlist: {item!r} is not an IP address or CIDR", code="option_invalid"
                    ) from None
            cleaned[key] = networks
        else:
            text = str(value).strip()
            if not text or len(text) > MAX_OPTION_CHARS:
                raise InvalidInput(f"option {key} must be 1-{MAX_OPTION_CHARS} characters", code="option_invalid")
            cleaned[key] = text
    return cleaned


def _check_credentials(adapter: Adapter, credentials: Mapping[str, str]) -> dict[str, str]:
    known = {f.name for f in adapter.credential_fields}
    unknown = sorted(set(credentials) - known)
    if unknown:
        raise InvalidInput(
            f"unknown credential(s) {', '.join(unknown)} for {adapter.provider}; "
            f"expected: {', '.join(sorted(known)) or 'none'}",
            code="credentials_unknown",
        )
    cleaned = {k: str(v).strip() for k, v in credentials.items() if str(v).strip()}
    missing = [f.name for f in adapter.credential_fields if f.required and f.name not in cleaned]
    if missing:
        raise InvalidInput(
            f"{adapter.title} needs credential(s): {', '.join(missing)}",
            code="credentials_missing",
            details={"missing": missing},
        )
    return cleaned


def add_integration(
    session: Session,
    settings: Settings,
    vault: Vault,
    tenant_id: str,
    provider: str,
    *,
    actor: str,
    name: str = "",
    credentials: Mapping[str, str] | None = None,
    secret: str = "",
    api_base_url: str = "",
    options: Mapping[str, Any] | None = None,
) -> Installed:
    adapter = require_adapter(provider)
    if tenants.get_tenant(session, tenant_id) is None:
        raise NotFound(f"tenant {tenant_id!r} does not exist; create it first", code="tenant_not_found")
    creds = _check_credentials(adapter, credentials or {})
    base = api_base_url or adapter.base_url(creds)
    if not base:
        raise InvalidInput(f"{adapter.title} needs an API base URL (--api-base-url)", code="api_base_url_missing")
    base = _check_base_url(base, settings)
    made_secret = ""
    if not secret and adapter.signing_key_from == "deskguard":
        made_secret = secret = new_secret()
    row = Integration(
        id=uuid.uuid4().hex,
        tenant_id=tenant_id,
        provider=provider,
        name=name.strip()[:200],
        secret_encrypted=vault.encrypt(secret.strip()),
        credentials_encrypted=vault.encrypt_json(creds),
        credential_names=sorted(creds),
        api_base_url=base,
        options=_check_options(adapter, options or {}),
        enabled=True,
    )
    session.add(row)
    session.flush()
    audit.record(session, tenant_id, actor, "integration_added", "integration", row.id, {"provider": provider})
    view = integration_view(session, settings, vault, row)
    return Installed(**view.model_dump(), secret=made_secret)


def get_row(session: Session, integration_id: str, tenant_id: str | None = None) -> Integration:
    row = session.get(Integration, integration_id)
    if row is None or (tenant_id is not None and row.tenant_id != tenant_id):
        raise NotFound("integration not found", code="integration_not_found")
    return row


def config_of(vault: Vault, row: Integration) -> IntegrationConfig:
    return IntegrationConfig(
        id=row.id,
        tenant_id=row.tenant_id,
        provider=row.provider,
        secret=vault.decrypt(row.secret_encrypted),
        credentials=vault.decrypt_json(row.credentials_encrypted),
        api_base_url=row.api_base_url,
        options=dict(row.options or {}),
    )


def outbox_counts(session: Session, integration_id: str) -> dict[str, int]:
    rows = session.execute(
        select(OutboxItem.status, func.count())
        .where(OutboxItem.integration_id == integration_id)
        .group_by(OutboxItem.status)
    ).all()
    counts = {"pending": 0, "in_progress": 0, "done": 0, "dead": 0}
    counts.update({status: int(n) for status, n in rows})
    return counts


def integration_view(session: Session, settings: Settings, vault: Vault, row: Integration) -> IntegrationView:
    adapter = require_adapter(row.provider)
    config = config_of(vault, row)
    url = webhook_url(settings, row.provider, row.id)
    return IntegrationView(
        id=row.id,
        tenant=row.tenant_id,
        provider=row.provider,
        title=adapter.title,
        name=row.name,
        enabled=row.enabled,
        webhook_url=url,
        api_base_url=row.api_base_url,
        credentials_set=list(row.credential_names),
        secret_set=bool(config.secret),
        options=dict(row.options or {}),
        outbox=outbox_counts(session, row.id),
        setup_steps=adapter.setup_steps(config, url),
    )


def list_integrations(
    session: Session, settings: Settings, vault: Vault, tenant_id: str | None
) -> list[IntegrationView]:
    stmt = select(Integration).order_by(Integration.created_at, Integration.id)
    if tenant_id is not None:
        stmt = stmt.where(Integration.tenant_id == tenant_id)
    return [integration_view(session, settings, vault, row) for row in session.scalars(stmt)]


def set_secret(
    session: Session,
    settings: Settings,
    vault: Vault,
    integration_id: str,
    *,
    actor: str,
    secret: str = "",
    tenant_id: str | None = None,
) -> Installed:
    """Store the helpdesk's signing secret, or (empty `secret`) rotate to a new one Deskguard makes."""
    row = get_row(session, integration_id, tenant_id)
    adapter = require_adapter(row.provider)
    secret = secret.strip()
    made = ""
    if not secret:
        if adapter.signing_key_from == "vendor":
            raise InvalidInput(
                f"{adapter.title} makes the signing secret: paste it from the helpdesk", code="secret_required"
            )
        made = secret = new_secret()
    row.secret_encrypted = vault.encrypt(secret)
    session.flush()
    audit.record(session, row.tenant_id, actor, "integration_secret_set", "integration", row.id, {})
    return Installed(**integration_view(session, settings, vault, row).model_dump(), secret=made)


def update_integration(
    session: Session,
    settings: Settings,
    vault: Vault,
    integration_id: str,
    *,
    actor: str,
    tenant_id: str | None = None,
    enabled: bool | None = None,
    name: str | None = None,
    credentials: Mapping[str, str] | None = None,
    api_base_url: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> IntegrationView:
    """Change what is given: credentials given replace those of the same name (an expired token),
    options given replace all options; everything is validated as at install time."""
    row = get_row(session, integration_id, tenant_id)
    adapter = require_adapter(row.provider)
    changed: list[str] = []
    if credentials:
        merged = {**vault.decrypt_json(row.credentials_encrypted), **credentials}
        cleaned = _check_credentials(adapter, merged)
        row.credentials_encrypted = vault.encrypt_json(cleaned)
        row.credential_names = sorted(cleaned)
        changed.append("credentials")
    if api_base_url is not None:
        row.api_base_url = _check_base_url(api_base_url, settings)
        changed.append("api_base_url")
    if options is not None:
        row.options = _check_options(adapter, options)
        changed.append("options")
    if name is not None:
        row.name = name.strip()[:200]
        changed.append("name")
    if enabled is not None:
        row.enabled = enabled
        changed.append("enabled" if enabled else "disabled")
    session.flush()
    audit.record(session, row.tenant_id, actor, "integration_updated", "integration", row.id, {"changed": changed})
    return integration_view(session, settings, vault, row)



class DeliveryView(BaseModel):
    delivery_id: str
    status: str
    ticket_id: str
    assessment_id: str | None
    error_code: str
    detail: str
    received_at: datetime
    payload: str | None  # rejected deliveries only, for the admin to see what the helpdesk sent


class OutboxView(BaseModel):
    id: int
    assessment_id: str
    ref: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str
    created_at: datetime
    done_at: datetime | None


def list_deliveries(
    session: Session, integration_id: str, tenant_id: str | None, status: str | None = None, limit: int = 100
) -> list[DeliveryView]:
    get_row(session, integration_id, tenant_id)
    stmt = select(Delivery).where(Delivery.integration_id == integration_id)
    if status:
        stmt = stmt.where(Delivery.status == status)
    rows = session.scalars(stmt.order_by(Delivery.id.desc()).limit(max(1, min(limit, 1000))))
    return [DeliveryView.model_validate(r, from_attributes=True) for r in rows]


def list_outbox(
    session: Session, integration_id: str, tenant_id: str | None, status: str | None = None, limit: int = 100
) -> list[OutboxView]:
    get_row(session, integration_id, tenant_id)
    rows = outbox.list_items(session, integration_id, status, max(1, min(limit, 1000)))
    return [OutboxView.model_validate(r, from_attributes=True) for r in rows]


def retry_outbox(
    session: Session, integration_id: str, item_id: int, now: datetime, *, actor: str, tenant_id: str | None = None
) -> OutboxView:
    get_row(session, integration_id, tenant_id)
    return OutboxView.model_validate(outbox.retry(session, integration_id, item_id, now, actor), from_attributes=True)
