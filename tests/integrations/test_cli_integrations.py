"""`deskguard integrations ...` against a real database file: install (human and --json), credentials
from a file, update, list without secrets, test report, outbox and retry errors, keygen."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from app.cli import cli
from app.settings import get_settings

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("DESKGUARD_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("DESKGUARD_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    monkeypatch.setenv("DESKGUARD_PUBLIC_URL", "https://deskguard.acme.example")
    get_settings.cache_clear()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(cli, ["tenants", "create", "acme"]).exit_code == 0
    yield tmp_path
    get_settings.cache_clear()


def add(*args: str) -> dict[str, object]:
    result = runner.invoke(cli, ["integrations", "add", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_add_prints_url_secret_and_steps(env: Path) -> None:
    result = runner.invoke(
        cli, ["integrations", "add", "generic", "--tenant", "acme", "--api-base-url", "https://cb.acme.example/x"]
    )
    assert result.exit_code == 0, result.output
    assert "https://deskguard.acme.example/v1/hooks/generic/" in result.stdout
    assert "Secret (shown once" in result.stdout
    assert "1. " in result.stdout

    body = add("generic", "--tenant", "acme", "--api-base-url", "https://cb.acme.example/x")
    assert set(body) >= {"id", "webhook_url", "secret"}
    assert body["webhook_url"] == f"https://deskguard.acme.example/v1/hooks/generic/{body['id']}"

    listed = runner.invoke(cli, ["integrations", "list", "--tenant", "acme"])
    assert listed.exit_code == 0
    assert body["secret"] not in listed.stdout
    assert len(json.loads(listed.stdout)) == 2


def test_credentials_from_a_file_are_stored_encrypted_and_never_shown(env: Path) -> None:
    token_file = env / "token.txt"
    token_file.write_text("s3cr3t-token-value\n")
    body = add(
        "jira_service_management",
        "--tenant",
        "acme",
        "--credential",
        "site=acme",
        "--credential",
        "email=admin@acme.example",
        "--credential",
        f"api_token=@{token_file}",
    )
    shown = runner.invoke(cli, ["integrations", "show", str(body["id"])])
    assert shown.exit_code == 0
    view = json.loads(shown.stdout)
    assert view["credentials_set"] == ["api_token", "email", "site"]
    assert view["api_base_url"] == "https://acme.atlassian.net"
    assert "s3cr3t" not in shown.stdout
    assert b"s3cr3t" not in (env / "cli.sqlite3").read_bytes()

    updated = runner.invoke(
        cli,
        [
            "integrations",
            "update",
            str(body["id"]),
            "--credential",
            "api_token=new-token",
            "--option",
            "custom_field=customfield_10050",
        ],
    )
    assert updated.exit_code == 0, updated.output
    assert json.loads(updated.stdout)["options"] == {"custom_field": "customfield_10050"}


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["pigeon", "--tenant", "acme"], "provider_unknown"),
        (["generic", "--tenant", "nobody", "--api-base-url", "https://x.example"], "tenant_not_found"),
        (["jira_service_management", "--tenant", "acme", "--credential", "site=acme"], "credentials_missing"),
        (["generic", "--tenant", "acme", "--api-base-url", "https://x.example", "--credential", "oops"], "name=value"),
        (
            ["generic", "--tenant", "acme", "--api-base-url", "https://x.example", "--credential", "a=env:NOPE_X"],
            "NOPE_X",
        ),
    ],
)
def test_add_errors_are_clear(env: Path, args: list[str], code: str) -> None:
    result = runner.invoke(cli, ["integrations", "add", *args])
    assert result.exit_code == 2
    assert code in result.output


def test_test_command_reports_each_hop_and_outbox_commands_work(env: Path) -> None:
    body = add("generic", "--tenant", "acme", "--api-base-url", "https://cb.acme.example/x")
    result = runner.invoke(cli, ["integrations", "test", str(body["id"])])
    assert result.exit_code == 0, result.output
    hops = [line.split()[1] for line in result.stdout.splitlines()]
    assert hops == ["integration", "webhook", "helpdesk_api", "assessment", "write_back"]

    outbox = json.loads(runner.invoke(cli, ["integrations", "outbox", str(body["id"])]).stdout)
    assert [item["status"] for item in outbox] == ["done"]
    retry = runner.invoke(cli, ["integrations", "retry", str(body["id"]), str(outbox[0]["id"])])
    assert retry.exit_code == 2
    assert "not_dead" in retry.output

    assert runner.invoke(cli, ["integrations", "disable", str(body["id"])]).exit_code == 0
    failed = runner.invoke(cli, ["integrations", "test", str(body["id"])])
    assert failed.exit_code == 1
    assert "FAIL integration" in failed.stdout


def test_keygen_prints_a_usable_key() -> None:
    result = runner.invoke(cli, ["integrations", "keygen"])
    assert result.exit_code == 0
    Fernet(result.stdout.strip().encode())
