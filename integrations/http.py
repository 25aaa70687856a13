"""Calls to a helpdesk's API, with every failure sorted into "retry later" or "give up".

The outbox worker retries a `WriteBackError` with `retryable=True` (429, 5xx, timeouts, refused
connections), honouring `retry_after` when the helpdesk sends Retry-After, and dead-letters the rest
(bad credentials, a ticket that no longer exists, a request the helpdesk refuses).
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Any

import httpx

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MAX_ERROR_DETAIL = 200
MAX_RETRY_AFTER = 3600.0


class WriteBackError(Exception):
    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None, status: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    delta = when.timestamp() - (time.time() if now is None else now)
    return min(max(delta, 0.0), MAX_RETRY_AFTER)


def _detail(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:MAX_ERROR_DETAIL]


class HelpdeskAPI:
    """One helpdesk's API: a base URL, authentication, and error classification."""

    def __init__(
        self,
        base_url: str,
        http: httpx.Client,
        *,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        retry_after_headers: tuple[str, ...] = ("retry-after",),
    ) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise WriteBackError(f"API base URL {base_url!r} is not an http(s) URL", retryable=False)
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.headers = dict(headers or {})
        self.auth = auth
        self.retry_after_headers = retry_after_headers  # where the helpdesk says how long to wait on 429

    def url(self, path: str) -> str:
        if not path:
            return self.base_url
        return path if path.startswith(("https://", "http://")) else f"{self.base_url}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        ok_statuses: tuple[int, ...] = (),
    ) -> httpx.Response:
        """Send one request; return the response on 2xx (or a status in `ok_statuses`), raise otherwise."""
        merged = {**self.headers, **(headers or {})}
        try:
            response = self.http.request(
                method,
                self.url(path),
                json=json,
                params=params,
                data=data,
                content=content,
                headers=merged,
                auth=self.auth if self.auth is not None else httpx.USE_CLIENT_DEFAULT,
                follow_redirects=False,
            )
        except httpx.TimeoutException as exc:
            raise WriteBackError(f"{method} {path}: timed out ({type(exc).__name__})", retryable=True) from exc
        except httpx.TransportError as exc:
            raise WriteBackError(f"{method} {path}: {type(exc).__name__}", retryable=True) from exc
        status = response.status_code
        if 200 <= status < 300 or status in ok_statuses:
            return response
        where = f"{method} {path}: HTTP {status}"
        if status == 429:
            wait = next((response.headers[h] for h in self.retry_after_headers if h in response.headers), None)
            after = parse_retry_after(wait)
            raise WriteBackError(f"{where} (rate limited)", retryable=True, retry_after=after, status=status)
        if status >= 500 or status == 408:
            after = parse_retry_after(response.headers.get("retry-after"))
            raise WriteBackError(f"{where} {_detail(response)}", retryable=True, retry_after=after, status=status)
        if status in (401, 403):
            raise WriteBackError(f"{where}: the helpdesk refused the credentials", retryable=False, status=status)
        raise WriteBackError(f"{where} {_detail(response)}", retryable=False, status=status)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def json_object(self, method: str, path: str, **kwargs: Any) -> Mapping[str, Any]:
        """The response body, which must be a JSON object (anything else is a permanent error)."""
        value = self.json(method, path, **kwargs)
        if not isinstance(value, Mapping):
            raise WriteBackError(f"{method} {path}: the response is not a JSON object", retryable=False)
        return value

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """The response body as JSON; a helpdesk answering 2xx with something else is a permanent error."""
        response = self.request(method, path, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise WriteBackError(f"{method} {path}: the response is not JSON", retryable=False) from exc
