"""The Detector protocol and what detectors produce.

A detector reads one analysed ticket (ticket, normalized text, spaCy doc, entities, context) and
returns hits: signals with a tactic, weight, explanation and evidence, and requested actions.
Scoring turns hits into the assessment's signals and score; detectors never score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from app.core.assessment import Evidence
from app.core.context import Context
from app.core.ticket import Ticket
from app.core.tickettext import TicketText

if TYPE_CHECKING:
    from spacy.tokens import Doc

    from app.core.entities import Entity


@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    detector: str
    tactic: str
    weight: float
    explanation: str
    evidence: tuple[Evidence, ...] = ()
    rule_version: int = 1
    language: str = ""
    quoted: bool = False  # seen only in quoted or forwarded text
    shadow: bool = False  # experimental rule: reported, never scored
    staff_claim: bool = False  # the text claims to be staff, an executive or an authority


@dataclass(frozen=True, slots=True)
class ActionHit:
    action: str
    confidence: float
    rule: str
    evidence: tuple[Evidence, ...] = ()


@dataclass(slots=True)
class Findings:
    hits: list[Hit] = field(default_factory=list)
    actions: list[ActionHit] = field(default_factory=list)

    def extend(self, other: Findings) -> None:
        self.hits.extend(other.hits)
        self.actions.extend(other.actions)

    def tactics(self) -> set[str]:
        return {h.tactic for h in self.hits if not h.shadow and not h.quoted}

    def action_names(self) -> set[str]:
        return {a.action for a in self.actions}


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything a detector may read about one ticket. Built once per ticket."""

    ticket: Ticket
    text: TicketText
    doc: Doc | None
    entities: tuple[Entity, ...]
    context: Context

    def evidence(self, start: int, end: int) -> Evidence:
        return self.text.evidence(start, end)

    def entities_in(self, evidence: Evidence) -> list[Entity]:
        """Contacts (emails, phones) written inside an evidence span."""
        found = []
        for entity in self.entities:
            if entity.kind not in ("email", "phone"):
                continue
            where = self.evidence(entity.start, entity.end)
            if (where.field, where.message) == (evidence.field, evidence.message) and (
                evidence.start <= where.start < evidence.end
            ):
                found.append(entity)
        return found


class Detector(Protocol):
    name: str

    def detect(self, analysis: Analysis, prior: Findings) -> Findings:
        """Return this detector's hits; `prior` holds what earlier detectors found."""
        ...
