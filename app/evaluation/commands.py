"""`deskguard eval` and `deskguard scenarios`: measure detectors on labelled data and the scenario library."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from app.errors import ConfigError, DeskguardError

scenarios_cli = typer.Typer(no_args_is_help=True, help="The scenario library (attacks and benign look-alikes).")

# The targets a security review holds the detectors to (issue: measured detection quality).
TARGETS = {
    "recall_high_min": 0.92,
    "fpr_high_max": 0.02,
    "hard_fpr_high_max": 0.05,
    "action_recall_min": 0.85,
    "language_fpr_gap_max_points": 2.0,
    "language_recall_gap_max_points": 5.0,
    "evasion_max_change": 5,
}


def _assessor() -> Any:
    from app.core.engine import Assessor
    from app.settings import get_settings

    try:
        return Assessor.load(get_settings().spacy_model)
    except ConfigError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from None


@scenarios_cli.command("list")
def scenarios_list() -> None:
    """One line per scenario: id, label, threat or kind, channel, languages, expected level."""
    from app.scenarios.library import load_library

    try:
        library = load_library()
    except ConfigError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from None
    for s in library:
        group = f"threat {s.threat}" if s.threat else s.benign_kind
        level = f">= {s.expect.min_level}" if s.label == "attack" else f"<= {s.expect.max_level}"
        langs = ",".join(["en", *s.variants])
        typer.echo(f"{s.id:52} {s.label:7} {group:20} {s.channel:6} {langs:14} {level}")
    attacks = sum(s.label == "attack" for s in library)
    typer.echo(f"{len(library)} scenarios: {attacks} attacks, {len(library) - attacks} benign", err=True)


@scenarios_cli.command("export")
def scenarios_export(
    format: Annotated[str, typer.Option("--format", help="jsonl")] = "jsonl",
) -> None:
    """One normalized ticket per line (every language variant) with its labels."""
    from app.scenarios.library import export_cases, load_library

    if format != "jsonl":
        typer.echo(f"unknown format {format!r}; use jsonl", err=True)
        raise typer.Exit(2)
    for case in export_cases(load_library()):
        typer.echo(json.dumps(case, ensure_ascii=False))


def eval_command(
    dataset: Annotated[str, typer.Argument(help="labelled cases, JSON lines; '-' for standard input")],
    report: Annotated[Path | None, typer.Option(help="directory for report.json and report.html")] = None,
    fairness: Annotated[bool, typer.Option("--fairness", help="run the fairness audit too")] = False,
    evasion: Annotated[bool, typer.Option("--evasion", help="run the evasion suite too")] = False,
) -> None:
    """Score labelled cases through the production core and report detection quality."""
    from app.evaluation import report as reporting
    from app.evaluation.audits import evasion_suite, fairness_audit
    from app.evaluation.dataset import load_cases, read_cases
    from app.evaluation.runner import score_cases

    try:
        cases = read_cases(sys.stdin, "stdin") if dataset == "-" else load_cases(Path(dataset))
    except (DeskguardError, OSError) as exc:
        typer.echo(getattr(exc, "message", str(exc)), err=True)
        raise typer.Exit(2) from None
    if not cases:
        typer.echo("the dataset has no cases", err=True)
        raise typer.Exit(2)
    assessor = _assessor()
    items = score_cases(assessor, cases)
    extra: dict[str, Any] = {"targets": TARGETS, "rule_packs": assessor.pack_hash}
    if fairness:
        extra["fairness"] = fairness_audit(assessor, cases)
    if evasion:
        extra["evasion"] = evasion_suite(assessor, cases)
    built = reporting.build(items, extra)
    typer.echo(reporting.table(built))
    for key in ("fairness", "evasion"):
        if key in built:
            typer.echo(f"\n{key}:\n" + json.dumps(_brief(built[key]), indent=2))
    if report:
        report.mkdir(parents=True, exist_ok=True)
        reporting.write_json(built, report / "report.json")
        reporting.write_html(built, report / "report.html")
        typer.echo(f"\nreport written to {report}/report.json and {report}/report.html", err=True)


def _brief(section: dict[str, Any]) -> dict[str, Any]:
    """The audit without its long per-case lists, for the terminal."""
    out: dict[str, Any] = {}
    for k, v in section.items():
        if isinstance(v, dict):
            out[k] = _brief(v)
        elif isinstance(v, list) and len(v) > 5:
            out[k] = f"{len(v)} items (see report.json)"
        else:
            out[k] = v
    return out
