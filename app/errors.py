"""One exception hierarchy; every HTTP error is JSON `{"code", "message", ...}` with a stable code."""

from __future__ import annotations

from typing import Any


class DeskguardError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class NotFound(DeskguardError):
    status_code = 404
    code = "not_found"


class Unauthorized(DeskguardError):
    status_code = 401
    code = "unauthorized"


class Forbidden(DeskguardError):
    status_code = 403
    code = "forbidden"


class Conflict(DeskguardError):
    status_code = 409
    code = "conflict"


class InvalidInput(DeskguardError):
    status_code = 422
    code = "invalid_input"


class PayloadTooLarge(DeskguardError):
    status_code = 413
    code = "payload_too_large"


class ConfigError(DeskguardError):
    """Content or configuration that does not validate: start-up stops (fail closed)."""

    status_code = 500
    code = "config_invalid"
