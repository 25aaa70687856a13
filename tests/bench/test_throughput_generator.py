"""The benchmark's ticket generator: deterministic, about the requested length, a mix of requests.

Nothing here is timed (benchmarks report, tests never time things) and no model is loaded.
"""

from __future__ import annotations

import importlib.util
import statistics
from pathlib import Path
from types import ModuleType

from app.core.tickettext import build_ticket_text

BENCH = Path(__file__).resolve().parents[2] / "bench" / "throughput.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("deskguard_bench_throughput", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tickets_are_deterministic_and_about_the_requested_length() -> None:
    bench = _bench()
    first, again = bench.make_tickets(100, 145, 7), bench.make_tickets(100, 145, 7)
    assert [t.model_dump() for t in first] == [t.model_dump() for t in again]
    words = [len(build_ticket_text(t).text.split()) for t in first]
    assert 135 <= statistics.mean(words) <= 155 and min(words) >= 120
    assert len({t.ticket_id for t in first}) == 100
    bodies = " ".join(t.messages[0].body for t in first)
    for phrase in ("turn off 2FA", "gift card", "order #", "@gmail.com", "+1 415 555", "Thanks"):
        assert phrase in bodies, phrase
