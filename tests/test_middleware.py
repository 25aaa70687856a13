"""The HTTP edge on a tiny app: body limit, request ids, the access event, and JSON errors."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
import structlog
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel
from starlette.types import Message, Receive, Scope, Send

from app.error_handlers import field_path, install_error_handlers
from app.errors import NotFound
from app.logging import _RootHandler, configure_logging
from app.middleware import BodySizeLimitMiddleware, CorrelationIdMiddleware
from app.settings import Settings

LIMIT = 1024
UUID_HEX = re.compile(r"[0-9a-f]{32}")


class MessageIn(BaseModel):
    author: str
    body: str


class TicketIn(BaseModel):
    subject: str
    messages: list[MessageIn]


def make_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=LIMIT)
    app.add_middleware(CorrelationIdMiddleware)

    @app.post("/tickets")
    async def create_ticket(ticket: TicketIn) -> dict[str, int]:
        return {"messages": len(ticket.messages)}

    @app.get("/tickets/{ticket_id}")
    async def get_ticket(ticket_id: int) -> dict[str, int]:
        if ticket_id == 404:
            raise NotFound("No such ticket.", code="ticket_not_found")
        return {"ticket_id": ticket_id}

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("db password=hunter2 for jane@example.com")

    return app


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(Settings(env="production", jwt_secret="m" * 40), stream=stream)
    yield stream
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _RootHandler)]:
        root.removeHandler(handler)
    structlog.reset_defaults()


@pytest.fixture
def client(log_output: io.StringIO) -> TestClient:
    return TestClient(make_app(), raise_server_exceptions=False)


def _records(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


# --- body size --------------------------------------------------------------------------------------


def test_declared_content_length_over_the_limit_is_413(client: TestClient) -> None:
    response = client.post("/raw", content=b"x" * (LIMIT + 1))
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert response.headers["content-type"] == "application/json"
    assert "x-request-id" in response.headers


def test_body_at_the_limit_passes(client: TestClient) -> None:
    response = client.post("/raw", content=b"x" * LIMIT)
    assert response.status_code == 200
    assert response.json() == {"bytes": LIMIT}


@pytest.mark.parametrize("path", ["/raw", "/tickets"])
def test_chunked_body_without_content_length_over_the_limit_is_413(client: TestClient, path: str) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"y" * 300

    response = client.post(path, content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_chunked_body_under_the_limit_passes(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"a" * 500
        yield b"b" * 500

    assert client.post("/raw", content=chunks()).json() == {"bytes": 1000}


@pytest.mark.anyio
async def test_streamed_chunks_are_counted_in_receive_and_never_over_read() -> None:
    """Pure ASGI: five 400-byte chunks, no Content-Length; the app reads until the limit is passed."""
    pulled: list[int] = []
    sent: list[Message] = []
    app_saw = 0

    async def receive() -> Message:
        pulled.append(400)
        return {"type": "http.request", "body": b"z" * 400, "more_body": len(pulled) < 5}

    async def send(message: Message) -> None:
        sent.append(message)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal app_saw
        try:
            while True:
                message = await receive()
                app_saw += len(message.get("body", b""))
                if not message.get("more_body"):
                    break
        except Exception:  # an app that swallows the error and answers on its own
            await send({"type": "http.response.start", "status": 400, "headers": []})
            await send({"type": "http.response.body", "body": b"bad"})
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    scope: Scope = {"type": "http", "method": "POST", "path": "/", "headers": []}
    await BodySizeLimitMiddleware(app, max_bytes=LIMIT)(scope, receive, send)

    assert len(pulled) == 3  # the third chunk crossed 1024 bytes; nothing more was read
    assert app_saw == 800  # the app never received the chunk that crossed the limit
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["code"] == "payload_too_large"
    assert len(sent) == 2  # the app's own 400 was dropped


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- request id and access event --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "echoed"),
    [
        ("abc-123.x_Y", True),
        ("a" * 64, True),
        ("a" * 65, False),
        ("has spaces", False),
        ("<script>", False),
        (None, False),
    ],
)
def test_request_id_is_echoed_when_sane_else_generated(
    client: TestClient, sent: str | None, echoed: bool
) -> None:
    headers = {"X-Request-ID": sent} if sent is not None else {}
    returned = client.get("/tickets/7", headers=headers).headers["X-Request-ID"]
    if echoed:
        assert returned == sent
    else:
        assert UUID_HEX.fullmatch(returned)


def test_one_request_finished_event_with_route_template_and_no_query(
    client: TestClient, log_output: io.StringIO
) -> None:
    client.get("/tickets/7?token=abc123&email=jane@example.com", headers={"X-Request-ID": "req-42"})
    finished = [r for r in _records(log_output) if r["event"] == "request_finished"]
    assert len(finished) == 1
    event = finished[0]
    assert event["request_id"] == "req-42"
    assert event["method"] == "GET"
    assert event["path"] == "/tickets/{ticket_id}"
    assert event["status"] == 200
    assert isinstance(event["duration_ms"], float)
    assert "abc123" not in log_output.getvalue() and "jane@" not in log_output.getvalue()


def test_unmatched_path_is_logged_without_query(client: TestClient, log_output: io.StringIO) -> None:
    client.get("/nope?secret=s3cr3t")
    event = next(r for r in _records(log_output) if r["event"] == "request_finished")
    assert (event["path"], event["status"]) == ("/nope", 404)
    assert "s3cr3t" not in log_output.getvalue()


# --- errors -----------------------------------------------------------------------------------------


def test_validation_error_paths_without_echoing_input(client: TestClient) -> None:
    evil = "<script>alert('jane@example.com')</script>"
    response = client.post(
        "/tickets",
        json={"subject": evil, "messages": [{"body": evil}, {"author": {"x": evil}, "body": "hi"}]},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_input"
    assert body["message"]
    assert [(d["path"], d["type"]) for d in body["details"]] == [
        ("messages.0.author", "missing"),
        ("messages.1.author", "string_type"),
    ]
    assert all(set(d) == {"path", "message", "type"} for d in body["details"])
    assert "script" not in response.text and "jane@" not in response.text


def test_invalid_json_has_its_own_code(client: TestClient) -> None:
    response = client.post(
        "/tickets", content=b'{"subject": "x", ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_json"
    assert body["details"][0]["position"] == 17


def test_path_parameter_errors_keep_their_location(client: TestClient) -> None:
    response = client.get("/tickets/not-a-number")
    assert response.status_code == 422
    assert response.json()["details"][0]["path"] == "path.ticket_id"


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/no/such/route", 404, "route_not_found"),
        ("DELETE", "/tickets", 405, "method_not_allowed"),
        ("GET", "/tickets/404", 404, "ticket_not_found"),
    ],
)
def test_http_errors_are_json_with_stable_codes(
    client: TestClient, method: str, path: str, status: int, code: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json()["code"] == code
    assert response.json()["message"]
    if status == 405:
        assert "POST" in response.headers["allow"]


def test_unhandled_exception_is_500_with_nothing_of_it_in_the_body(
    client: TestClient, log_output: io.StringIO
) -> None:
    response = client.get("/boom", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    assert response.json() == {"code": "internal_error", "message": response.json()["message"]}
    assert "hunter2" not in response.text and "RuntimeError" not in response.text
    assert response.headers["X-Request-ID"] == "req-500"
    assert response.headers["connection"] == "close"

    output = log_output.getvalue()
    failed = next(r for r in _records(log_output) if r["event"] == "request_failed")
    assert failed["request_id"] == "req-500"
    assert failed["path"] == "/boom"
    assert "RuntimeError" in str(failed["exception"])
    assert "hunter2" not in output and "jane@example.com" not in output
    finished = next(r for r in _records(log_output) if r["event"] == "request_finished")
    assert finished["status"] == 500


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        (("body", "messages", 0, "author"), "messages.0.author"),
        (("body",), ""),
        (("query", "limit"), "query.limit"),
        (("header", "x-signature"), "header.x-signature"),
    ],
)
def test_field_path(loc: tuple[str | int, ...], path: str) -> None:
    assert field_path(loc) == path
