"""The `deskguard` command: serve, score, test detectors, migrate, issue development tokens."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Annotated

import typer
from pydantic import ValidationError

from app.errors import ConfigError, DeskguardError
from app.evaluation.commands import eval_command, scenarios_cli
from app.integrations.commands import integrations_cli, worker_command
from app.settings import get_settings

cli = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Deskguard: stop social engineering at the ticket.",
)
db_cli = typer.Typer(no_args_is_help=True, help="Database schema.")
detectors_cli = typer.Typer(no_args_is_help=True, help="Rule packs and playbooks.")
tenants_cli = typer.Typer(no_args_is_help=True, help="Tenants.")
cli.add_typer(db_cli, name="db")
cli.add_typer(detectors_cli, name="detectors")
cli.add_typer(tenants_cli, name="tenants")
cli.add_typer(scenarios_cli, name="scenarios")
cli.add_typer(integrations_cli, name="integrations")
cli.command("worker")(worker_command)
cli.command("eval")(eval_command)

SCORE_BATCH = 64


@cli.callback()
def _setup() -> None:
    """Logs go to standard error: standard output carries the command's data."""
    from app.logging import configure_logging

    configure_logging(get_settings(), stream=sys.stderr)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration to the configured database."""
    from app.db import migrate

    migrate(get_settings().database_url)
    typer.echo("database is at the latest revision", err=True)


@detectors_cli.command("test")
def detectors_test(
    packs: Annotated[Path | None, typer.Option(help="rule pack directory (default: the shipped packs)")] = None,
    playbook_dir: Annotated[Path | None, typer.Option("--playbooks", help="playbook directory")] = None,
) -> None:
    """Validate every rule pack, scoring file and playbook and run their inline tests."""
    from app.core.playbook import load_playbooks, run_playbook_tests
    from app.core.scoring import load_scoring
    from detectors.rule_tests import run_rule_tests
    from detectors.rulepack import PACK_DIR, load_rules
    from playbooks import PLAYBOOK_DIR

    try:
        ruleset = load_rules(packs or PACK_DIR)
        load_scoring()
        playbooks = load_playbooks(playbook_dir or PLAYBOOK_DIR)
    except ConfigError as exc:
        raise _fail(f"FAIL {exc.message}") from None
    failures = run_rule_tests(ruleset)
    examples = sum(len(r.tests_match) + len(r.tests_no_match) for r in ruleset.rules)
    for playbook in playbooks.values():
        failures += run_playbook_tests(playbook)
    pb_tests = sum(len(p.tests) for p in playbooks.values())
    for line in failures:
        typer.echo(f"FAIL {line}", err=True)
    summary = (
        f"{len(ruleset.rules)} rules ({examples} examples), {len(playbooks)} playbooks ({pb_tests} tests), "
        f"rule packs {ruleset.content_hash}"
    )
    if failures:
        raise _fail(f"{len(failures)} failed; {summary}")
    typer.echo(f"ok: {summary}")


def _read_tickets(stream: IO[str]) -> Iterator[tuple[int, dict[str, object]]]:
    """One JSON ticket (possibly pretty-printed) or JSON lines; yields (line, object)."""
    text = stream.read()
    stripped = text.strip()
    if not stripped:
        return
    try:
        whole = json.loads(stripped)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict):
        yield 1, whole
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _fail(f"line {number}: not JSON: {exc.msg}", 2) from None
        if not isinstance(obj, dict):
            raise _fail(f"line {number}: expected a JSON object (one ticket)", 2)
        yield number, obj


def _batches(
    items: Iterator[tuple[int, dict[str, object]]], size: int
) -> Iterator[list[tuple[int, dict[str, object]]]]:
    batch: list[tuple[int, dict[str, object]]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@cli.command()
def score(
    file: Annotated[str, typer.Argument(help="a JSON ticket or JSON lines; '-' for standard input")] = "-",
    no_store: Annotated[bool, typer.Option("--no-store", help="dry run: read and write no database")] = False,
    tenant: Annotated[str, typer.Option(help="tenant the tickets belong to")] = "dev",
    playbook: Annotated[str, typer.Option(help="playbook for --no-store runs")] = "",
) -> None:
    """Score tickets; print one assessment JSON per line, in input order."""
    from app.assessments.context import offline_context
    from app.assessments.service import new_assessment_id, score_tickets
    from app.core.engine import Assessor, Job
    from app.core.ticket import Ticket
    from app.runtime import utc_now

    settings = get_settings()
    try:
        assessor = Assessor.load(settings.spacy_model)
    except ConfigError as exc:
        raise _fail(exc.message) from None
    stream = sys.stdin if file == "-" else _open(file)
    runtime = None
    if not no_store:
        from app.db import make_engine, make_sessionmaker, session_scope
        from app.tenants.repository import ensure_tenant

        engine = make_engine(settings.database_url)
        sessions = make_sessionmaker(engine)
        with session_scope(sessions) as session:
            ensure_tenant(session, tenant)
        runtime = sessions
    for batch in _batches(_read_tickets(stream), SCORE_BATCH):
        tickets = []
        for number, obj in batch:
            try:
                tickets.append(Ticket.model_validate(obj))
            except ValidationError as exc:
                err = exc.errors()[0]
                path = ".".join(str(p) for p in err["loc"])
                raise _fail(f"line {number}: invalid ticket at {path or '(root)'}: {err['msg']}", 2) from None
        now = utc_now()
        if runtime is None:
            pb = playbook or settings.default_playbook
            results = assessor.assess_many([Job(t, offline_context(t, now, pb), new_assessment_id()) for t in tickets])
        else:
            try:
                with session_scope(runtime) as session:
                    results = score_tickets(session, assessor, tenant, tickets, now, "cli:score")
            except DeskguardError as exc:
                raise _fail(f"{exc.code}: {exc.message}", 2) from None
        for assessment in results:
            typer.echo(assessment.model_dump_json())


def _open(path: str) -> IO[str]:
    try:
        return Path(path).open(encoding="utf-8")
    except OSError as exc:
        raise _fail(f"{path}: {exc.strerror}", 2) from None


@cli.command()
def token(
    tenant: Annotated[str, typer.Option()] = "dev",
    role: Annotated[str, typer.Option(help="agent|security|trainer|admin|approver|service")] = "admin",
    subject: Annotated[str, typer.Option()] = "developer",
    ttl: Annotated[int, typer.Option(help="seconds")] = 12 * 3600,
    ensure_tenant: Annotated[bool, typer.Option("--ensure-tenant", help="create the tenant if missing")] = False,
) -> None:
    """Print a bearer token (development and test only)."""
    from app.auth import issue_token

    settings = get_settings()
    if settings.env == "production":
        raise _fail("tokens are issued by your identity provider in production", 2)
    if ensure_tenant:
        _ensure_tenant(tenant, [], None)
    try:
        value = issue_token(settings, tenant=tenant, role=role, subject=subject, ttl_seconds=ttl)
    except ValueError as exc:
        raise _fail(str(exc), 2) from None
    typer.echo(f"# {role} token for tenant '{tenant}', valid {ttl // 3600} h:", err=True)
    typer.echo(value)


def _ensure_tenant(tenant_id: str, domains: list[str], playbook: str | None, name: str | None = None) -> None:
    from app.db import make_engine, make_sessionmaker, session_scope
    from app.tenants.repository import ensure_tenant

    with session_scope(make_sessionmaker(make_engine(get_settings().database_url))) as session:
        ensure_tenant(session, tenant_id, name=name, domains=domains or None, playbook=playbook)


@tenants_cli.command("create")
def tenants_create(
    tenant_id: Annotated[str, typer.Argument(help="a slug, e.g. acme")],
    name: Annotated[str, typer.Option()] = "",
    domain: Annotated[list[str], typer.Option(help="the tenant's own email/web domain (repeatable)")] = [],  # noqa: B006
    playbook: Annotated[str, typer.Option(help="consumer|workforce_it|minors_platform")] = "consumer",
) -> None:
    """Create a tenant (or update its name, domains and playbook)."""
    from app.core.playbook import load_playbooks
    from playbooks import PLAYBOOK_DIR

    if playbook not in load_playbooks(PLAYBOOK_DIR):
        raise _fail(f"unknown playbook {playbook!r}", 2)
    try:
        _ensure_tenant(tenant_id, domain, playbook, name or None)
    except DeskguardError as exc:
        raise _fail(f"{exc.code}: {exc.message}", 2) from None
    typer.echo(json.dumps({"id": tenant_id, "domains": domain, "playbook": playbook}))


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    workers: Annotated[int, typer.Option(help="processes")] = 1,
    with_worker: Annotated[
        bool, typer.Option("--with-worker", help="also send write-backs from each process (one-process set-up)")
    ] = False,
) -> None:
    """Start the HTTP service (uvicorn)."""
    import os

    import uvicorn

    if with_worker:
        os.environ["DESKGUARD_EMBEDDED_WORKER"] = "true"  # read by each process's settings
        get_settings.cache_clear()
    settings = get_settings()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_config=None,
        proxy_headers=False,
    )


def main() -> None:
    cli()
