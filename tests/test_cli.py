"""The `deskguard` command: score (JSON lines in input order, dry runs), detectors test, token."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.settings import get_settings
from detectors.rulepack import PACK_DIR

ACCOUNT = {"id": "acc-9", "name": "Ana Silva", "emails": ["ana@example.com"], "phones": []}
TICKETS = [
    {
        "ticket_id": "c-1",
        "messages": [{"body": "How do I turn on two-factor authentication?"}],
        "requester": {"email": "ana@example.com"},
        "account": ACCOUNT,
    },
    {
        "ticket_id": "c-2",
        "messages": [{"body": "Lost my phone, change my email to ana.new@gmail.com and disable 2FA now"}],
        "requester": {"email": "someone@outlook.com"},
        "account": ACCOUNT,
    },
    {"ticket_id": "c-3", "messages": [{"body": "Where is my order 55123?"}], "requester": {"email": "ana@example.com"}},
]


@pytest.fixture
def db_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "var" / "cli.sqlite3"
    monkeypatch.setenv("DESKGUARD_DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def jsonl(tickets: list[dict]) -> str:
    return "\n".join(json.dumps(t) for t in tickets) + "\n"


def test_score_no_store_writes_one_line_per_ticket_in_order_and_touches_no_database(db_file: Path) -> None:
    result = CliRunner().invoke(cli, ["score", "--no-store", "-"], input=jsonl(TICKETS))
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [x["ticket_id"] for x in lines] == ["c-1", "c-2", "c-3"]
    assert lines[0]["level"] == "low" and lines[0]["required_steps"] == []
    assert lines[1]["level"] in ("high", "critical")
    assert not db_file.exists()


def test_score_reads_one_pretty_printed_ticket(tmp_path: Path, db_file: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(TICKETS[1], indent=2))
    result = CliRunner().invoke(cli, ["score", "--no-store", str(path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ticket_id"] == "c-2"


def test_score_stores_when_asked(db_file: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(cli, ["score", "--tenant", "clitest", "-"], input=jsonl(TICKETS[:2]))
    assert result.exit_code == 0, result.output
    from app.db import make_engine, make_sessionmaker, session_scope
    from app.tickets.repository import get_assessment

    ids = [json.loads(x)["assessment_id"] for x in result.stdout.splitlines()]
    engine = make_engine(f"sqlite:///{db_file}")
    with session_scope(make_sessionmaker(engine)) as s:
        assert all(get_assessment(s, "clitest", i) is not None for i in ids)
    engine.dispose()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            jsonl(TICKETS[:1]) + '{"ticket_id": "x", "messages": [{"author": "boss"}]}\n',
            "line 2: invalid ticket at messages.0.author",
        ),
        (jsonl(TICKETS[:1]) + "{not json\n", "line 2: not JSON"),
        ("[1, 2]\n", "line 1: expected a JSON object"),
    ],
)
def test_bad_input_names_the_line(db_file: Path, payload: str, message: str) -> None:
    result = CliRunner().invoke(cli, ["score", "--no-store", "-"], input=payload)
    assert result.exit_code == 2
    assert message in result.stderr


def test_detectors_test_passes_on_shipped_content() -> None:
    result = CliRunner().invoke(cli, ["detectors", "test"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: ")


def test_detectors_test_fails_loudly_on_a_broken_example(tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    shutil.copytree(PACK_DIR, packs)
    target = packs / "en" / "pressure.yaml"
    text = target.read_text()
    target.write_text(text.replace("- no rush, whenever you can", "- I need this done right now, no wait", 1))
    result = CliRunner().invoke(cli, ["detectors", "test", "--packs", str(packs)])
    assert result.exit_code == 1
    assert f"{target}:" in result.stderr and "en.urgency.strong: should not match" in result.stderr


def test_detectors_test_fails_loudly_on_an_invalid_pack(tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    shutil.copytree(PACK_DIR, packs)
    target = packs / "en" / "actions.yaml"
    target.write_text(target.read_text().replace("action: mfa_reset", "action: mfa_rest", 1))
    result = CliRunner().invoke(cli, ["detectors", "test", "--packs", str(packs)])
    assert result.exit_code == 1
    assert f"FAIL {target}:" in result.stderr and "unknown action 'mfa_rest'" in result.stderr


def test_token_is_accepted_by_the_api_decoder() -> None:
    from app.auth import decode_token

    result = CliRunner().invoke(cli, ["token", "--tenant", "acme", "--role", "agent"])
    assert result.exit_code == 0
    principal = decode_token(get_settings(), result.stdout.strip())
    assert (principal.tenant, principal.role) == ("acme", "agent")
