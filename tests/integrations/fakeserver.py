"""A real local HTTP server standing in for a helpdesk's API, built from the vendor's documented
endpoints: tests register routes, read what was sent, and inject 429s, 5xx and hangs."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Recorded, re.Match[str]], Reply]


@dataclass
class Fault:
    status: int = 0  # 0 = hang
    headers: dict[str, str] = field(default_factory=dict)
    hang_seconds: float = 0.0
    match: str = ""  # only requests whose "METHOD path" matches this regex
    after: bool = False  # handle the request first, then fail or hang (the response is lost)


class FakeHelpdesk:
    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.requests: list[Recorded] = []
        self.faults: deque[Fault] = deque()
        self.lock = threading.Lock()
        self.release = threading.Event()  # set to end every hang at once
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                rec = Recorded(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                reply = outer._dispatch(rec)
                if reply is None:  # hung, then dropped
                    self.close_connection = True
                    return
                data = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                if reply.body is None:
                    data = b""
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json", **reply.headers}
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        port = self.server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def __enter__(self) -> FakeHelpdesk:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append((method, re.compile(pattern + r"\Z"), handler))
            return handler

        return register

    def fail_next(self, status: int, times: int = 1, headers: dict[str, str] | None = None, match: str = "") -> None:
        for _ in range(times):
            self.faults.append(Fault(status=status, headers=headers or {}, match=match))

    def hang_next(self, seconds: float = 30.0, times: int = 1, match: str = "", after: bool = False) -> None:
        for _ in range(times):
            self.faults.append(Fault(status=0, hang_seconds=seconds, match=match, after=after))

    def _take_fault(self, rec: Recorded) -> Fault | None:
        with self.lock:
            for fault in list(self.faults):
                if not fault.match or re.search(fault.match, f"{rec.method} {rec.path}"):
                    self.faults.remove(fault)
                    return fault
        return None

    def _dispatch(self, rec: Recorded) -> Reply | None:
        with self.lock:
            self.requests.append(rec)
        fault = self._take_fault(rec)
        reply = None
        if fault is None or fault.after:
            reply = self._handle(rec)
        if fault is not None:
            if fault.status == 0:
                self.release.wait(fault.hang_seconds)
                return None
            return Reply(fault.status, {"error": "injected"}, fault.headers)
        return reply

    def _handle(self, rec: Recorded) -> Reply:
        for method, pattern, handler in self.routes:
            match = pattern.match(rec.path)
            if method == rec.method and match:
                with self.lock:
                    return handler(rec, match)
        return Reply(404, {"error": f"no route {rec.method} {rec.path}"})

    def sent(self, method: str, pattern: str) -> list[Recorded]:
        regex = re.compile(pattern + r"\Z")
        return [r for r in self.requests if r.method == method and regex.match(r.path)]


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()
