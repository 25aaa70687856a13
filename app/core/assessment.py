"""The assessment: the one output shape of the core, stored and returned by every entry point."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.vocabulary import Level, StepStatus


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Evidence(_Out):
    """Where in the original ticket text a signal or action was seen.

    `field` is `subject` or `body`; for `body`, `message` is the index into `ticket.messages`.
    `start`/`end` are character offsets into that original (un-normalized) text.
    """

    field: Literal["subject", "body"] = "body"
    message: int | None = None
    start: int
    end: int


class RequestedAction(_Out):
    action: str
    confidence: float = Field(ge=0, le=1)
    rule: str
    evidence: list[Evidence] = Field(default_factory=list)


class Signal(_Out):
    id: str  # stable id of the rule or built-in check that raised it
    detector: str
    tactic: str
    weight: float  # the rule's configured weight
    points: float = 0  # what it contributed to the score after diminishing returns
    explanation: str
    evidence: list[Evidence] = Field(default_factory=list)
    rule_version: int = 1
    language: str = ""


class RequiredStep(_Out):
    step: str
    label: str
    strength: int = Field(ge=1, le=3)
    methods: list[str]
    status: StepStatus
    why: str
    satisfied_by: str | None = None  # id of the verification event that satisfied it


class Banner(_Out):
    level: Level
    headline: str = Field(max_length=80)
    reasons: list[str] = Field(default_factory=list, max_length=3)


class Versions(_Out):
    rule_packs: str  # content hash over every loaded pack
    playbook: str  # "<id>@<version>"
    model: str  # spaCy model name and version
    engine: str


class Assessment(_Out):
    ticket_id: str
    assessment_id: str
    score: int = Field(ge=0, le=100)
    level: Level
    actions: list[RequestedAction]
    signals: list[Signal]
    required_steps: list[RequiredStep]
    forbidden: list[str]
    escalate: str = "none"
    banner: Banner
    versions: Versions
