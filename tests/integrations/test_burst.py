"""Two API processes and two outbox workers on one PostgreSQL database take a burst of 2,000 signed
webhooks, 10% of them redeliveries (some racing the original on the other process): every unique
ticket is assessed once, every write-back is sent once, nothing is lost."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from app.db import make_engine, make_sessionmaker, session_scope
from app.integrations.crypto import Vault
from app.integrations.service import add_integration
from app.models import Assessment, Delivery, OutboxItem, Ticket
from app.settings import Settings
from app.tenants.repository import ensure_tenant
from integrations.generic import sign
from tests.conftest import POSTGRES_URL_VAR, migrated_database
from tests.integrations.fakeserver import FakeHelpdesk, Recorded, Reply, wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get(POSTGRES_URL_VAR), reason=f"needs PostgreSQL ({POSTGRES_URL_VAR})"),
]

DESKGUARD = str(Path(sys.executable).with_name("deskguard"))
UNIQUE = 1_800
DUPLICATES = 200
TEXTS = [
    "I lost my phone, please turn off two-factor and change my email to {n}.new@gmail.com, it's urgent.",
    "Hi, where is my order {n}? It was supposed to arrive on Monday. Thanks!",
    "This is the CFO. Wire the payment for invoice {n} to the new bank details today and keep it quiet.",
    "How do I download my receipts for order {n}?",
    "Please reset my password, I can't log in since yesterday. Account {n}.",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    with migrated_database("postgresql", tmp_path) as url:
        yield url


def spawn(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [DESKGUARD, *args], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def test_burst_of_2000_webhooks_across_two_processes_and_two_workers(database: str) -> None:
    key = Fernet.generate_key().decode()
    settings = Settings(env="test", database_url=database, encryption_keys=key, jwt_secret="burst-" + "x" * 40)
    engine = make_engine(database)
    sessions = make_sessionmaker(engine)

    with FakeHelpdesk() as callback:

        @callback.route("POST", "/deskguard")
        def receive(rec: Recorded, _m: object) -> Reply:
            return Reply(202, {"ok": True})

        with session_scope(sessions) as s:
            ensure_tenant(s, "burst")
            installed = add_integration(
                s,
                settings,
                Vault.from_settings(settings),
                "burst",
                "generic",
                actor="test",
                api_base_url=f"{callback.base_url}/deskguard",
            )
        env = {
            **os.environ,
            "DESKGUARD_ENV": "test",
            "DESKGUARD_DATABASE_URL": database,
            "DESKGUARD_ENCRYPTION_KEYS": key,
            "DESKGUARD_JWT_SECRET": settings.jwt_secret,
            "DESKGUARD_LOG_LEVEL": "WARNING",
        }
        ports = [free_port(), free_port()]
        processes = [spawn(env, "serve", "--port", str(p)) for p in ports]
        processes += [spawn(env, "worker", "--poll", "0.2") for _ in range(2)]
        try:
            for port in ports:
                assert wait_for(lambda port=port: _ready(port), timeout=120), f"API on {port} did not start"

            deliveries = []
            for n in range(UNIQUE):
                ticket = {
                    "ticket_id": f"B-{n}",
                    "subject": f"Request {n}",
                    "messages": [{"author": "requester", "body": TEXTS[n % len(TEXTS)].format(n=n)}],
                    "requester": {"email": f"user{n}@example.com"},
                }
                deliveries.append((uuid.uuid4().hex, json.dumps(ticket).encode()))
            rng = random.Random(7)
            # (port, delivery): a redelivery goes to the other process than its original
            plan = [(ports[i % 2], d) for i, d in enumerate(deliveries)]
            plan += [(ports[(i + 1) % 2], deliveries[i]) for i in rng.sample(range(UNIQUE), DUPLICATES)]
            rng.shuffle(plan)

            def post(job: tuple[int, tuple[str, bytes]]) -> tuple[int, str]:
                port, (delivery_id, body) = job
                ts = int(time.time())
                headers = {
                    "Content-Type": "application/json",
                    "X-Deskguard-Timestamp": str(ts),
                    "X-Deskguard-Signature": sign(installed.secret, body, ts),
                    "X-Deskguard-Delivery": delivery_id,
                }
                for _attempt in range(3):
                    try:
                        r = httpx.post(
                            f"http://127.0.0.1:{port}/v1/hooks/generic/{installed.id}",
                            content=body,
                            headers=headers,
                            timeout=120,
                        )
                        return r.status_code, r.json().get("status", r.json().get("code", ""))
                    except httpx.TransportError:
                        continue
                return 0, "unreachable"

            with ThreadPoolExecutor(max_workers=16) as pool:
                results = list(pool.map(post, plan))
            assert Counter(code for code, _ in results) == Counter({200: UNIQUE + DUPLICATES})
            statuses = Counter(status for _, status in results)
            assert statuses["assessed"] == UNIQUE
            assert statuses["duplicate"] == DUPLICATES

            def outbox_done() -> bool:
                with session_scope(sessions) as s:
                    return (
                        s.scalar(select(func.count()).select_from(OutboxItem).where(OutboxItem.status == "done"))
                        == UNIQUE
                    )

            assert wait_for(outbox_done, timeout=300)
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()

        with session_scope(sessions) as s:
            assert s.scalar(select(func.count()).select_from(Delivery)) == UNIQUE
            assert s.scalar(select(func.count()).select_from(Ticket)) == UNIQUE
            assert s.scalar(select(func.count()).select_from(Assessment)) == UNIQUE
            assert s.scalar(select(func.count()).select_from(OutboxItem)) == UNIQUE
            assessment_ids = set(s.scalars(select(Assessment.id)))
        sent = callback.sent("POST", "/deskguard")
        keys = Counter(r.headers["idempotency-key"] for r in sent)
        assert len(sent) == UNIQUE, f"{len(sent) - len(keys)} write-backs were sent more than once"
        assert {k.rsplit(":", 1)[1] for k in keys} == assessment_ids
    engine.dispose()


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False
