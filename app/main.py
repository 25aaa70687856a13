"""The FastAPI application factory: `uvicorn --factory app.main:create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.accounts.routes import router as accounts_router
from app.assessments.routes import router as assessments_router
from app.banner.routes import router as banner_router
from app.error_handlers import install_error_handlers
from app.health.routes import router as health_router
from app.hooks.routes import router as hooks_router
from app.integrations.routes import router as integrations_router
from app.integrations.worker import start_embedded_worker
from app.logging import configure_logging, get_logger
from app.middleware import BodySizeLimitMiddleware, CorrelationIdMiddleware
from app.runtime import Runtime
from app.settings import Settings, get_settings
from app.verification.attest_routes import router as attest_router
from app.verification.routes import router as verification_router

log = get_logger(__name__)


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = runtime or Runtime.start(settings)
        app.state.runtime = rt
        log.info("service_started", env=settings.env, model=rt.assessor.model_name, rule_packs=rt.assessor.pack_hash)
        worker = start_embedded_worker(rt) if settings.embedded_worker else None
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            if runtime is None:
                rt.close()
            log.info("service_stopped")

    app = FastAPI(title="Deskguard", version="0.1.0", lifespan=lifespan)
    app.dependency_overrides[get_settings] = lambda: settings
    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(assessments_router)
    app.include_router(accounts_router)
    app.include_router(hooks_router)
    app.include_router(integrations_router)
    app.include_router(verification_router)
    app.include_router(attest_router)
    app.include_router(banner_router)
    # The last added runs outermost: every response, a 413 included, carries the request id.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(CorrelationIdMiddleware)
    return app
