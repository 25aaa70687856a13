"""Webhook path vs POST /v1/score over HTTP, one service process, the same tickets, one run.

Run: .venv/bin/python bench/webhooks.py [--tickets N] [--clients C]
Starts `deskguard serve` on a temporary SQLite database, sends N generic signed webhooks (each a new
ticket), then the same N tickets to POST /v1/score, from C concurrent clients, and prints requests/s
and latency percentiles for both and their ratio: what verifying, deduplicating, storing the
delivery and queueing the write-back cost on top of scoring. Reports only; always exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from integrations.generic import sign

DESKGUARD = str(Path(sys.executable).with_name("deskguard"))
TEXTS = [
    "I lost my phone, please turn off two-factor and change my email to {n}.new@gmail.com, it's urgent.",
    "Hi, where is my order {n}? It was supposed to arrive on Monday. Thanks!",
    "This is the CFO. Wire the payment for invoice {n} to the new bank details today and keep it quiet.",
    "How do I download my receipts for order {n}? I need them for my expense report this month.",
    "Please reset my password, I can't log in since yesterday. Account {n}.",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(command: list[str], env: dict[str, str]) -> str:
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout


def timed(jobs: list[Callable[[], int]], clients: int) -> tuple[float, list[float], int]:
    latencies: list[float] = []

    def one(job: Callable[[], int]) -> int:
        start = time.perf_counter()
        status = job()
        latencies.append(time.perf_counter() - start)
        return status

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        statuses = list(pool.map(one, jobs))
    elapsed = time.perf_counter() - start
    return elapsed, latencies, sum(1 for s in statuses if s >= 400)


def report(name: str, n: int, elapsed: float, latencies: list[float], errors: int) -> float:
    q = statistics.quantiles(latencies, n=100)
    rate = n / elapsed
    print(f"{name:<10} {rate:7.1f} req/s   p50 {q[49] * 1000:6.1f} ms   p95 {q[94] * 1000:6.1f} ms   errors {errors}")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=400)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DESKGUARD_ENV": "test",
            "DESKGUARD_DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
            "DESKGUARD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "DESKGUARD_JWT_SECRET": "bench-" + "x" * 40,
            "DESKGUARD_LOG_LEVEL": "WARNING",
        }
        run([DESKGUARD, "db", "upgrade"], env)
        run([DESKGUARD, "tenants", "create", "bench"], env)
        installed = json.loads(
            run(
                [
                    DESKGUARD,
                    "integrations",
                    "add",
                    "generic",
                    "--tenant",
                    "bench",
                    "--api-base-url",
                    "https://callback.invalid/x",
                    "--json",
                ],
                env,
            )
        )
        token = run([DESKGUARD, "token", "--tenant", "bench", "--role", "service"], env).strip()
        port = free_port()
        server = subprocess.Popen(
            [DESKGUARD, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(240):
                try:
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.5)
            client = httpx.Client(timeout=60, limits=httpx.Limits(max_connections=args.clients))

            def ticket(n: int, prefix: str) -> bytes:
                body = {
                    "ticket_id": f"{prefix}-{n}",
                    "messages": [{"author": "requester", "body": TEXTS[n % len(TEXTS)].format(n=n)}],
                    "requester": {"email": f"user{n}@example.com"},
                }
                return json.dumps(body).encode()

            def hook(n: int) -> Callable[[], int]:
                def send() -> int:
                    body, ts = ticket(n, "H"), int(time.time())
                    headers = {
                        "X-Deskguard-Timestamp": str(ts),
                        "X-Deskguard-Signature": sign(installed["secret"], body, ts),
                        "X-Deskguard-Delivery": f"d-{n}",
                        "Content-Type": "application/json",
                    }
                    return client.post(
                        f"{base}/v1/hooks/generic/{installed['id']}", content=body, headers=headers
                    ).status_code

                return send

            def score(n: int) -> Callable[[], int]:
                def send() -> int:
                    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
                    return client.post(f"{base}/v1/score", content=ticket(n, "S"), headers=headers).status_code

                return send

            timed([score(n) for n in range(-20, 0)], args.clients)  # warm-up
            n = args.tickets
            print(f"{n} tickets, {args.clients} concurrent clients, one service process, SQLite")
            hooks = report("webhook", n, *timed([hook(i) for i in range(n)], args.clients))
            scores = report("/v1/score", n, *timed([score(i) for i in range(n)], args.clients))
            print(f"webhook / score throughput: {hooks / scores:.2f}")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
