"""Pure ASGI middlewares for the HTTP edge: correlation ids with one access event, and a body-size limit.

Add them outermost-last, so the correlation id covers every response including a 413:

    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(CorrelationIdMiddleware)
"""

from __future__ import annotations

import json
import re
import time
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PayloadTooLarge
from app.logging import get_logger

REQUEST_ID_HEADER = "x-request-id"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
log = get_logger("deskguard.http")


def request_id_from(scope: Scope) -> str:
    """The caller's `X-Request-ID` if it is a sane token, else a fresh uuid4 hex."""
    for name, value in scope.get("headers", ()):
        if name.lower() == REQUEST_ID_HEADER.encode():
            candidate = value.decode("latin-1")
            if _SANE_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def route_path(scope: Scope) -> str:
    """The matched route's template (`/v1/tickets/{ticket_id}`), else the raw path; never the query."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(template, str):
        return scope.get("root_path", "") + template
    return str(scope.get("path", ""))[:200]


class CorrelationIdMiddleware:
    """Binds `request_id` into structlog contextvars, echoes it, and logs one `request_finished`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        scope.setdefault("state", {})["request_id"] = request_id  # read by the 500 handler
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if scope["type"] == "http":
                log.info(
                    "request_finished",
                    method=scope.get("method"),
                    path=route_path(scope),
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )
            structlog.contextvars.reset_contextvars(**tokens)


def _too_large_body(max_bytes: int) -> bytes:
    return json.dumps(
        {"code": PayloadTooLarge.code, "message": f"The request body exceeds the {max_bytes}-byte limit."}
    ).encode()


class BodySizeLimitMiddleware:
    """413 when `Content-Length` or the bytes actually received exceed `max_bytes`.

    Bytes are counted as the app reads them; nothing is buffered here. Once the limit is passed,
    `receive` raises `PayloadTooLarge`, and whatever the app then sends (its own error, or nothing if
    the exception escapes) is replaced by the 413.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must be >= 0")
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._reject(send)
            return

        received = 0
        exceeded = False
        app_started = False
        rejected = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise PayloadTooLarge("request body too large")
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise PayloadTooLarge("request body too large")
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal app_started, rejected
            if exceeded and not app_started:
                if not rejected:
                    rejected = True
                    await self._reject(send)
                return  # drop the app's own response to the oversized request
            if message["type"] == "http.response.start":
                app_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except PayloadTooLarge:
            if app_started:
                raise
            if not rejected:
                rejected = True
                await self._reject(send)

    async def _reject(self, send: Send) -> None:
        body = _too_large_body(self.max_bytes)
        headers: list[tuple[bytes, bytes]] = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None

