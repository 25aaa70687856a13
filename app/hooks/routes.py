"""POST /v1/hooks/{provider}/{integration_id}: a helpdesk's webhook delivery.

No bearer token: the delivery proves itself with the helpdesk's signature. Every answer is JSON;
2xx means "received, do not retry" (duplicates and ignored events included).
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Path, Request
from starlette.concurrency import run_in_threadpool

from app.hooks import service
from app.hooks.service import HookResult
from app.runtime import Runtime, get_runtime, utc_now
from integrations.protocol import InboundRequest

router = APIRouter(prefix="/v1/hooks", tags=["webhooks"])


@router.head("/{provider}/{integration_id}", status_code=200)
async def probe(
    provider: str = Path(min_length=1, max_length=32, pattern=r"^[a-z_]+$"),
    integration_id: str = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$"),
    runtime: Runtime = Depends(get_runtime),
) -> None:
    """Some helpdesks (Intercom) check the URL with HEAD when the webhook is saved: 200 if it is ours."""
    await runtime.run_io(lambda s: service.find_enabled(s, provider, integration_id))


@router.post("/{provider}/{integration_id}", response_model=HookResult, response_model_exclude_none=True)
async def receive(
    request: Request,
    provider: str = Path(min_length=1, max_length=32, pattern=r"^[a-z_]+$"),
    integration_id: str = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$"),
    runtime: Runtime = Depends(get_runtime),
) -> HookResult:
    inbound = InboundRequest(
        body=await request.body(),
        headers={k.lower(): v for k, v in request.headers.items()},
        query=dict(request.query_params),
        url=str(request.url),
        client_ip=request.client.host if request.client else "",
    )
    now = time.time()
    prepared = await runtime.run_io(lambda s: service.prepare(s, runtime.vault, provider, integration_id, inbound, now))
    if prepared.rejection is not None:
        raise prepared.rejection
    if prepared.result is not None:
        return prepared.result
    parsed = await run_in_threadpool(service.complete, prepared, runtime.http)
    return await runtime.run(lambda s: service.record(s, runtime.assessor, prepared, parsed, utc_now()))
