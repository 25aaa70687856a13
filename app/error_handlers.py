"""One place that turns every error into JSON `{"code", "message", ...}` with a stable code.

Input that failed validation is never echoed back (it may be attacker text); unexpected exceptions
are logged (through the redacting chain) and answered with a bare `internal_error`.
"""

from __future__ import annotations

import http
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import DeskguardError, Unauthorized
from app.logging import get_logger, mark_logged, scrub_text
from app.middleware import route_path

MAX_DETAILS = 50
log = get_logger("deskguard.http")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "route_not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def _request_id_headers(request: Request) -> dict[str, str]:
    request_id = request.scope.get("state", {}).get("request_id")
    return {"X-Request-ID": request_id} if isinstance(request_id, str) else {}


def field_path(loc: Sequence[int | str]) -> str:
    """`("body", "messages", 0, "author")` -> `"messages.0.author"`; other locations keep their prefix."""
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(str(p) for p in parts)


def validation_details(errors: Sequence[Any]) -> list[dict[str, str]]:
    """Path, message and type of each error; never the input, never the ctx (which can hold it)."""
    details = []
    for error in list(errors)[:MAX_DETAILS]:
        details.append(
            {
                "path": field_path(error.get("loc", ())),
                "message": scrub_text(str(error.get("msg", "Invalid value."))),
                "type": str(error.get("type", "value_error")),
            }
        )
    return details


async def deskguard_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DeskguardError)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
    return JSONResponse(exc.to_body(), status_code=exc.status_code, headers=headers)


async def request_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    invalid_json = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if invalid_json is not None:
        loc = invalid_json.get("loc", ())
        detail: dict[str, Any] = {"message": str((invalid_json.get("ctx") or {}).get("error", ""))}
        if len(loc) > 1 and isinstance(loc[1], int):
            detail["position"] = loc[1]
        body = {"code": "invalid_json", "message": "The request body is not valid JSON.", "details": [detail]}
        return JSONResponse(body, status_code=422)
    body = {
        "code": "invalid_input",
        "message": f"The request is not valid ({len(errors)} error{'s' if len(errors) != 1 else ''}).",
        "details": validation_details(errors),
    }
    return JSONResponse(body, status_code=422)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    code = _HTTP_CODES.get(status, "http_error")
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "HTTP error"
    message = exc.detail if isinstance(exc.detail, str) and exc.detail else phrase
    headers = dict(exc.headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return JSONResponse({"code": code, "message": message}, status_code=status, headers=headers or None)


async def unhandled_error(request: Request, exc: Exception) -> JSONResponse:
    """Log it (redacted, plain traceback) and answer 500 with nothing of it in the body."""
    log.error(
        "request_failed",
        exc_info=exc,
        error_type=type(exc).__name__,
        method=request.method,
        path=route_path(request.scope),
        request_id=request.scope.get("state", {}).get("request_id"),
    )
    mark_logged(exc)
    body = {"code": "internal_error", "message": "Something went wrong on our side."}
    # The server closes the connection after an unhandled error; say so, so clients do not reuse it.
    headers = {**_request_id_headers(request), "Connection": "close"}
    return JSONResponse(body, status_code=500, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DeskguardError, deskguard_error)
    app.add_exception_handler(RequestValidationError, request_validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unhandled_error)
