"""GET /healthz (the process answers) and GET /readyz (database reachable, content loaded, versions)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.runtime import Runtime, get_runtime

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(runtime: Runtime = Depends(get_runtime)) -> JSONResponse:
    assessor = runtime.assessor
    body: dict[str, Any] = {
        "status": "ready",
        "model": assessor.model_name,
        "nlp_components": list(assessor.nlp.components) if assessor.nlp else [],
        "rule_packs": {"hash": assessor.pack_hash, "rules": len(assessor.ruleset.rules)},
        "playbooks": {pid: p.version for pid, p in sorted(assessor.playbooks.items())},
        "database": "ok",
    }
    try:
        await runtime.run(lambda s: s.execute(text("SELECT 1")))
    except Exception:
        body.update(status="not_ready", database="unreachable")
        return JSONResponse(body, status_code=503)
    return JSONResponse(body)
