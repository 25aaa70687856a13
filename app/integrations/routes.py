"""The integrations admin API (admin role, own tenant only): install, inspect, test, retry.

POST  /v1/integrations                         install; the response shows a Deskguard-made secret once
GET   /v1/integrations                         list, with webhook URLs and setup steps
GET   /v1/integrations/{id}
PATCH /v1/integrations/{id}                    {"enabled": false}
PUT   /v1/integrations/{id}/secret             {"secret": "..."}; empty rotates a Deskguard-made one
POST  /v1/integrations/{id}/test               {"ticket": "REF"} optional; the report of each hop
GET   /v1/integrations/{id}/deliveries         ?status=rejected to inspect what could not be read
GET   /v1/integrations/{id}/outbox             ?status=dead for dead-lettered write-backs and why
POST  /v1/integrations/{id}/outbox/{item}/retry
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from app.auth import Principal, require_roles
from app.integrations import service
from app.integrations.check import CheckReport, run_check
from app.runtime import Runtime, get_runtime, utc_now

router = APIRouter(prefix="/v1/integrations", tags=["integrations"])
admin = require_roles("admin")
IntegrationId = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IntegrationIn(_In):
    provider: str = Field(min_length=1, max_length=32)
    name: str = Field(default="", max_length=200)
    credentials: dict[str, str] = Field(default_factory=dict, max_length=20)
    secret: str = Field(default="", max_length=500)
    api_base_url: str = Field(default="", max_length=500)
    options: dict[str, Any] = Field(default_factory=dict, max_length=20)


class IntegrationPatch(_In):
    enabled: bool | None = None
    name: str | None = Field(default=None, max_length=200)
    credentials: dict[str, str] | None = Field(default=None, max_length=20)
    api_base_url: str | None = Field(default=None, max_length=500)
    options: dict[str, Any] | None = Field(default=None, max_length=20)


class SecretIn(_In):
    secret: str = Field(default="", max_length=500)


class TestIn(_In):
    ticket: str = Field(default="", max_length=200)


def _actor(principal: Principal) -> str:
    return f"{principal.role}:{principal.subject}"


@router.post("", response_model=service.Installed, status_code=201)
async def add(
    body: IntegrationIn, principal: Principal = Depends(admin), runtime: Runtime = Depends(get_runtime)
) -> service.Installed:
    return await runtime.run_io(
        lambda s: service.add_integration(
            s,
            runtime.settings,
            runtime.vault,
            principal.tenant,
            body.provider,
            actor=_actor(principal),
            name=body.name,
            credentials=body.credentials,
            secret=body.secret,
            api_base_url=body.api_base_url,
            options=body.options,
        )
    )


@router.get("", response_model=list[service.IntegrationView])
async def list_all(
    principal: Principal = Depends(admin), runtime: Runtime = Depends(get_runtime)
) -> list[service.IntegrationView]:
    return await runtime.run_io(
        lambda s: service.list_integrations(s, runtime.settings, runtime.vault, principal.tenant)
    )


@router.get("/{integration_id}", response_model=service.IntegrationView)
async def show(
    integration_id: str = IntegrationId,
    principal: Principal = Depends(admin),
    runtime: Runtime = Depends(get_runtime),
) -> service.IntegrationView:
    return await runtime.run_io(
        lambda s: service.integration_view(
            s, runtime.settings, runtime.vault, service.get_row(s, integration_id, principal.tenant)
        )
    )


@router.patch("/{integration_id}", response_model=service.IntegrationView)
async def patch(
    body: IntegrationPatch,
    integration_id: str = IntegrationId,
    principal: Principal = Depends(admin),
    runtime: Runtime = Depends(get_runtime),
) -> service.IntegrationView:
    return await runtime.run_io(
        lambda s: service.update_integration(
            s,
            runtime.settings,
            runtime.vault,
            integration_id,
            actor=_actor(principal),
            tenant_id=principal.tenant,
            enabled=body.enabled,
            name=body.name,
            credentials=body.credentials,
            api_base_url=body.api_base_url,
            options=body.options,
        )
    )


@router.put("/{integration_id}/secret", response_model=service.Installed)
async def put_secret(
    body: SecretIn,
    integration_id: str = IntegrationId,
    principal: Principal = Depends(admin),
    runtime: Runtime = Depends(get_runtime),
) -> service.Installed:
    return await runtime.run_io(
        lambda s: service.set_secret(
            s,
            runtime.settings,
            runtime.vault,
            integration_id,
            actor=_actor(principal),
            secret=body.secret,
            tenant_id=principal.tenant,
        )
    )


@router.post("/{integration_id}/test", response_model=CheckReport)
async def test(
    body: TestIn | None = None,
    integration_id: str = IntegrationId,
    principal: Principal = Depends(admin),
    runtime: Runtime = Depends(get_runtime),
) -> CheckReport:
    ticket = body.ticket if body else ""

    def work() -> CheckReport:
        return run_check(
            runtime.settings,
            runtime.sessions,
            runtime.assessor,
            runtime.vault,
            runtime.http,
            integration_id,
            tenant_id=principal.tenant,
            ticket_ref=ticket,
        )

    return await runtime.run_executor(work)


@router.get("/{integration_id}/deliveries", response_model=list[service.DeliveryView])
async def deliveries(
    integration_id: str = IntegrationId,
    status: Literal["assessed", "unchanged", "ignored", "rejected"] | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    principal: Principal = Depends(admin),
    runtime: Runtime = Depends(get_runtime),
) -> list[service.DeliveryView]:
    return await runtime.run_io(lambda s: service.list_deliveries(s, integration_id, principal.tenant, status, limit))


@router.get("/{integration_id}/outbox", response_model=list[service.OutboxView])
async def outbox_items(
    integration_id: str = IntegrationId,
    status: Literal["pending", "in_progress", "done", "dead"] | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    principal: Principal = Depends(admin),
    runtime: Runtime = Depends(get_runtime),
) -> list[service.OutboxView]:
    return await runtime.run_io(lambda s: service.list_outbox(s, integration_id, principal.tenant, status, limit))


@router.post("/{integration_id}/outbox/{item_id}/retry", response_model=service.OutboxView)
async def retry(
    integration_id: str = IntegrationId,
    item_id: int = Path(ge=1),
    principal: Principal = Depends(admin),
    runtime: Runtime = Depends(get_runtime),
) -> service.OutboxView:
    now = utc_now()
    return await runtime.run_io(
        lambda s: service.retry_outbox(
            s, integration_id, item_id, now, actor=_actor(principal), tenant_id=principal.tenant
        )
    )
