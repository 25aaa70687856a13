"""Labelled evaluation cases, one JSON object per line.

Each case: `label` (attack|benign), the ticket either as `ticket` (a normalized ticket) or as plain
`text`, and optionally `id`, `expect_actions`, `language`, `group`, `playbook`, `tenant_domains`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.core.ticket import Message, Ticket
from app.core.vocabulary import ACTIONS
from app.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    label: str
    ticket: Ticket
    language: str = "en"
    group: str = ""
    expect_actions: tuple[str, ...] | None = None  # None: not labelled for actions
    playbook: str = "consumer"
    tenant_domains: tuple[str, ...] = ()
    min_level: str = ""


def case_from(obj: dict[str, Any], where: str) -> Case:
    label = obj.get("label")
    if label not in ("attack", "benign"):
        raise InvalidInput(f"{where}: label must be 'attack' or 'benign'", code="invalid_case")
    case_id = str(obj.get("id") or where)
    try:
        if "ticket" in obj:
            ticket = Ticket.model_validate(obj["ticket"])
        elif isinstance(obj.get("text"), str) and obj["text"].strip():
            ticket = Ticket(ticket_id=case_id, messages=[Message(author="requester", body=obj["text"])])
        else:
            raise InvalidInput(f"{where}: needs 'ticket' or a non-empty 'text'", code="invalid_case")
    except ValidationError as exc:
        err = exc.errors()[0]
        path = ".".join(str(p) for p in err["loc"])
        raise InvalidInput(f"{where}: ticket.{path}: {err['msg']}", code="invalid_case") from None
    actions = obj.get("expect_actions")
    if actions is not None:
        unknown = [a for a in actions if a not in ACTIONS]
        if unknown:
            raise InvalidInput(f"{where}: unknown actions {unknown}", code="invalid_case")
    return Case(
        id=case_id,
        label=label,
        ticket=ticket,
        language=str(obj.get("language") or ticket.language or "en"),
        group=str(obj.get("group") or ""),
        expect_actions=tuple(actions) if actions is not None else None,
        playbook=str(obj.get("playbook") or "consumer"),
        tenant_domains=tuple(obj.get("tenant_domains") or ()),
        min_level=str(obj.get("min_level") or ""),
    )


def read_cases(lines: Iterable[str], source: str = "dataset") -> list[Case]:
    cases = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{where}: not JSON: {exc.msg}", code="invalid_case") from None
        if not isinstance(obj, dict):
            raise InvalidInput(f"{where}: expected a JSON object", code="invalid_case")
        cases.append(case_from(obj, where))
    return cases


def load_cases(path: Path) -> list[Case]:
    with path.open(encoding="utf-8") as f:
        return read_cases(f, str(path))
