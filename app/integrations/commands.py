"""`deskguard integrations ...` (install, inspect, test, retry) and `deskguard worker` (the outbox).

Credential values may be given as `name=value`, `name=@/path/to/file` (the file, trimmed: a token or a PEM key), or
`name=env:VARIABLE`, so that tokens need not appear in shell history.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from app.errors import DeskguardError

integrations_cli = typer.Typer(no_args_is_help=True, help="Helpdesk integrations: install, test, inspect, retry.")


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _pairs(items: list[str], what: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise _fail(f"--{what} expects name=value, got {item.split('=')[0]!r}")
        values[name.strip()] = _resolve(name.strip(), value, what)
    return values


def _resolve(name: str, value: str, what: str) -> str:
    if value.startswith("@"):
        try:
            text = Path(value[1:]).read_text(encoding="utf-8").strip()
        except OSError:
            raise _fail(f"--{what} {name}: cannot read {value[1:]!r}") from None
        if not text:
            raise _fail(f"--{what} {name}: {value[1:]!r} is empty")
        return text
    if value.startswith("env:"):
        found = os.environ.get(value[4:])
        if found is None:
            raise _fail(f"--{what} {name}: environment variable {value[4:]!r} is not set")
        return found
    return value


@contextmanager
def _database() -> Iterator[tuple[Any, sessionmaker[Session], Any]]:
    from app.db import make_engine, make_sessionmaker
    from app.integrations.crypto import Vault
    from app.settings import get_settings

    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        yield settings, make_sessionmaker(engine), Vault.from_settings(settings)
    except DeskguardError as exc:
        raise _fail(f"{exc.code}: {exc.message}") from None
    finally:
        engine.dispose()


def _emit(value: BaseModel | list[BaseModel]) -> None:
    if isinstance(value, list):
        typer.echo(json.dumps([v.model_dump(mode="json") for v in value], indent=2))
    else:
        typer.echo(value.model_dump_json(indent=2))


def _print_installed(installed: Any, as_json: bool) -> None:
    if as_json:
        body = {
            "id": installed.id,
            "webhook_url": installed.webhook_url,
            "secret": installed.secret,
            "provider": installed.provider,
            "tenant": installed.tenant,
            "setup_steps": installed.setup_steps,
        }
        typer.echo(json.dumps(body))
        return
    typer.echo(f"Installed {installed.title} integration {installed.id} for tenant {installed.tenant}.")
    typer.echo(f"Webhook URL: {installed.webhook_url}")
    if installed.secret:
        typer.echo(f"Secret (shown once; put it in {installed.title}): {installed.secret}")
    elif not installed.secret_set:
        typer.echo(
            f"Signing secret: {installed.title} makes it; paste it with "
            f"`deskguard integrations secret {installed.id} --secret ...`"
        )
    typer.echo(f"Next, in {installed.title}:")
    for number, step in enumerate(installed.setup_steps, start=1):
        typer.echo(f"  {number}. {step}")
    typer.echo(f"Then check every hop: deskguard integrations test {installed.id}")


@integrations_cli.command("add")
def add(
    provider: Annotated[str, typer.Argument(help="zendesk, freshdesk, intercom, helpscout, front, zammad, ...")],
    tenant: Annotated[str, typer.Option(help="the tenant (create it with `deskguard tenants create`)")],
    name: Annotated[str, typer.Option(help="a label for admins")] = "",
    credential: Annotated[
        list[str], typer.Option(help="API credential name=value (or name=@file, name=env:VAR); repeatable")
    ] = [],  # noqa: B006
    secret: Annotated[str, typer.Option(help="the webhook signing secret, when the helpdesk makes it")] = "",
    api_base_url: Annotated[str, typer.Option(help="API base URL (self-hosted helpdesks, tests)")] = "",
    option: Annotated[list[str], typer.Option(help="option name=value, e.g. custom_field=360001")] = [],  # noqa: B006
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object with id, webhook_url and secret")] = False,
) -> None:
    """Install an integration: prints the webhook URL, the secret and the steps to take in the helpdesk."""
    from app.db import session_scope
    from app.integrations.service import add_integration

    credentials = _pairs(credential, "credential")
    options: dict[str, Any] = dict(_pairs(option, "option"))
    with _database() as (settings, sessions, vault), session_scope(sessions) as session:
        installed = add_integration(
            session,
            settings,
            vault,
            tenant,
            provider,
            actor="cli:integrations",
            name=name,
            credentials=credentials,
            secret=_resolve("secret", secret, "secret") if secret else "",
            api_base_url=api_base_url,
            options=options,
        )
    _print_installed(installed, as_json)


@integrations_cli.command("list")
def list_(tenant: Annotated[str | None, typer.Option(help="only this tenant")] = None) -> None:
    """Every installed integration, with its webhook URL and outbox counts (never secrets)."""
    from app.db import session_scope
    from app.integrations.service import list_integrations

    with _database() as (settings, sessions, vault), session_scope(sessions) as session:
        _emit(list(list_integrations(session, settings, vault, tenant)))


@integrations_cli.command("show")
def show(integration_id: str) -> None:
    """One integration: webhook URL, which credentials are set, options, outbox counts, setup steps."""
    from app.db import session_scope
    from app.integrations.service import get_row, integration_view

    with _database() as (settings, sessions, vault), session_scope(sessions) as session:
        _emit(integration_view(session, settings, vault, get_row(session, integration_id)))


@integrations_cli.command("secret")
def secret(
    integration_id: str,
    value: Annotated[str, typer.Option("--secret", help="the helpdesk's signing secret (or @file, env:VAR)")] = "",
) -> None:
    """Store the helpdesk's signing secret; without --secret, rotate to a new Deskguard-made one."""
    from app.db import session_scope
    from app.integrations.service import set_secret

    with _database() as (settings, sessions, vault), session_scope(sessions) as session:
        installed = set_secret(
            session,
            settings,
            vault,
            integration_id,
            actor="cli:integrations",
            secret=_resolve("secret", value, "secret") if value else "",
        )
    typer.echo(f"New secret (shown once): {installed.secret}" if installed.secret else "secret stored")


@integrations_cli.command("update")
def update(
    integration_id: str,
    name: Annotated[str | None, typer.Option(help="a label for admins")] = None,
    credential: Annotated[
        list[str], typer.Option(help="replace one API credential: name=value (or @file, env:VAR); repeatable")
    ] = [],  # noqa: B006
    api_base_url: Annotated[str | None, typer.Option(help="API base URL")] = None,
    option: Annotated[list[str], typer.Option(help="options name=value; replaces all options")] = [],  # noqa: B006
) -> None:
    """Change an integration's credentials (e.g. an expired token), API base URL, options or name."""
    from app.db import session_scope
    from app.integrations.service import update_integration

    with _database() as (settings, sessions, vault), session_scope(sessions) as session:
        view = update_integration(
            session,
            settings,
            vault,
            integration_id,
            actor="cli:integrations",
            name=name,
            credentials=_pairs(credential, "credential") or None,
            api_base_url=api_base_url,
            options=dict(_pairs(option, "option")) if option else None,
        )
    _emit(view)


@integrations_cli.command("disable")
def disable(integration_id: str) -> None:
    """Refuse this integration's webhooks (404) until enabled again."""
    _set_enabled(integration_id, False)


@integrations_cli.command("enable")
def enable(integration_id: str) -> None:
    _set_enabled(integration_id, True)


def _set_enabled(integration_id: str, enabled: bool) -> None:
    from app.db import session_scope
    from app.integrations.service import update_integration

    with _database() as (settings, sessions, vault), session_scope(sessions) as session:
        view = update_integration(session, settings, vault, integration_id, actor="cli:integrations", enabled=enabled)
    typer.echo(f"integration {view.id} {'enabled' if view.enabled else 'disabled'}")


@integrations_cli.command("test")
def test(
    integration_id: str,
    ticket: Annotated[str, typer.Option(help="a real ticket id in the helpdesk to write the test note to")] = "",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Push a sample ticket through the whole path and report each hop; exit 1 if one fails."""
    import httpx

    from app.core.engine import Assessor
    from app.integrations.check import run_check
    from integrations.http import DEFAULT_TIMEOUT

    with _database() as (settings, sessions, vault), httpx.Client(timeout=DEFAULT_TIMEOUT) as http:
        assessor = Assessor.load(settings.spacy_model)
        report = run_check(settings, sessions, assessor, vault, http, integration_id, ticket_ref=ticket)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        for hop in report.hops:
            typer.echo(f"{'ok  ' if hop.ok else 'FAIL'} {hop.hop:<13} {hop.detail}")
    if not report.ok:
        raise typer.Exit(1)


@integrations_cli.command("deliveries")
def deliveries(
    integration_id: str,
    status: Annotated[str | None, typer.Option(help="assessed|unchanged|ignored|rejected")] = None,
    limit: int = 20,
) -> None:
    """Recent webhook deliveries; rejected ones carry the payload the helpdesk sent."""
    from app.db import session_scope
    from app.integrations.service import list_deliveries

    with _database() as (_settings, sessions, _vault), session_scope(sessions) as session:
        _emit(list(list_deliveries(session, integration_id, None, status, limit)))


@integrations_cli.command("outbox")
def outbox(
    integration_id: str,
    status: Annotated[str | None, typer.Option(help="pending|in_progress|done|dead")] = None,
    limit: int = 20,
) -> None:
    """Write-backs of one integration, with attempts and the last error (dead-lettered: --status dead)."""
    from app.db import session_scope
    from app.integrations.service import list_outbox

    with _database() as (_settings, sessions, _vault), session_scope(sessions) as session:
        _emit(list(list_outbox(session, integration_id, None, status, limit)))


@integrations_cli.command("retry")
def retry(integration_id: str, item_id: int) -> None:
    """Queue a dead-lettered write-back again (after fixing its cause)."""
    from app.db import session_scope
    from app.integrations.service import retry_outbox
    from app.runtime import utc_now

    with _database() as (_settings, sessions, _vault), session_scope(sessions) as session:
        _emit(retry_outbox(session, integration_id, item_id, utc_now(), actor="cli:integrations"))


@integrations_cli.command("keygen")
def keygen() -> None:
    """Print a new encryption key for DESKGUARD_ENCRYPTION_KEYS."""
    from app.integrations.crypto import new_key

    typer.echo(new_key())


@integrations_cli.command("package")
def package(
    provider: Annotated[str, typer.Argument(help="zendesk or freshdesk")],
    out: Annotated[Path, typer.Option("--out", help="directory for the zip")] = Path("dist"),
) -> None:
    """Build the helpdesk app zip an admin uploads (Zendesk, Freshdesk)."""
    from app.banner.package import build_package

    try:
        typer.echo(str(build_package(provider, out)))
    except DeskguardError as exc:
        raise _fail(exc.message) from None


def worker_command(
    once: Annotated[bool, typer.Option("--once", help="send what is due now, then exit")] = False,
    poll: Annotated[float, typer.Option(help="seconds between polls when idle")] = 1.0,
) -> None:
    """Send queued write-backs (notes, tags, fields) to the helpdesks; run as many as you like."""
    from app.integrations.worker import Worker

    with _database() as (settings, sessions, vault):
        worker = Worker(settings, sessions, vault)
        worker.install_signal_handlers()
        try:
            worker.run(poll_seconds=poll, until_idle=once)
        finally:
            worker.close()
