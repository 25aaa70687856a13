"""Load, validate and export the scenario library (fail closed with file:line)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.core.ticket import Message, Ticket
from app.core.yamlsource import line_of, load_yaml
from app.errors import ConfigError
from app.scenarios.schemas import Scenario

SCENARIO_DIR = Path(__file__).resolve().parent.parent.parent / "scenarios"
# Scenario messages are timed from a fixed clock so exports are reproducible.
EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _line_for(data: Any, loc: tuple[Any, ...]) -> int:
    """The line of the deepest node along a validation error's path."""
    line, node = line_of(data), data
    for key in loc:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
        line = line_of(node, line)
    return line


def load_scenario(path: Path) -> Scenario:
    data = load_yaml(path)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(file)"
        raise ConfigError(f"{path}:{_line_for(data, tuple(err['loc']))}: {where}: {err['msg']}") from None
    if path.stem != scenario.id:
        raise ConfigError(f"{path}:1: id {scenario.id!r} must equal the file name")
    return scenario


def load_library(directory: Path = SCENARIO_DIR) -> list[Scenario]:
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise ConfigError(f"{directory}: no scenarios found")
    return [load_scenario(p) for p in files]


def to_ticket(scenario: Scenario, language: str = "en", *, turns: int | None = None) -> Ticket:
    """The scenario as the helpdesk would send it: the requester's messages up to `turns`."""
    texts = scenario.messages if language == "en" else scenario.variants[language]  # type: ignore[index]
    texts = texts[: turns or len(texts)]
    messages = [Message(author="requester", body=t, created_at=EPOCH + timedelta(minutes=7 * i))
                for i, t in enumerate(texts)]
    suffix = "" if language == "en" else f"-{language}"
    return Ticket(ticket_id=f"{scenario.id}{suffix}", channel=scenario.channel, subject=scenario.subject,
                  messages=messages, requester=scenario.requester, account=scenario.account,
                  language=language, tags=["deskguard-simulation"])


def export_cases(scenarios: list[Scenario]) -> Iterator[dict[str, Any]]:
    """One labelled case per scenario and language: the normalized ticket with its labels."""
    for s in scenarios:
        for language in ["en", *s.variants]:
            yield {
                "id": s.id if language == "en" else f"{s.id}-{language}",
                "scenario": s.id,
                "label": s.label,
                "language": language,
                "group": f"threat-{s.threat}" if s.threat else s.benign_kind,
                "playbook": s.playbook,
                "tenant_domains": s.tenant_domains,
                "expect_actions": list(s.expect.actions),
                "min_level": s.expect.min_level,
                "max_level": s.expect.max_level,
                "ticket": to_ticket(s, language).model_dump(mode="json"),
            }
