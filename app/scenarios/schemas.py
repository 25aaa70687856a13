"""The shape of one scenario file (scenarios/<id>.yaml), validated at load like rule packs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.ticket import AccountOnFile, Requester
from app.core.vocabulary import Action, Channel, Level

Language = Literal["en", "es", "fr", "de", "pt"]
BENIGN_KINDS = (
    "calm_request",  # a calm account request from the contact on file
    "forwarded_phishing",  # someone forwarding a phishing message they received, asking if it is real
    "angry_customer",  # outage or billing anger, threats of churn, no account change
    "privacy_request",  # GDPR access/deletion from the account's own email
    "non_native_english",
    "routine_question",  # how-to questions that mention sensitive words
    "legitimate_change",  # a real change with context that checks out (authenticated, on-file contact)
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Persona(_Strict):
    name: str = Field(min_length=1, max_length=120)
    role: str = Field(default="", max_length=120)
    description: str = Field(default="", max_length=500)


class Expectation(_Strict):
    actions: list[Action] = Field(default_factory=list)
    min_level: Level = "low"  # attacks: the level the detectors must reach at least
    max_level: Level = "critical"  # benign: the level they must not exceed


class AgentBehaviour(_Strict):
    """What a trainer expects the agent to do, for scoring simulated attacks."""

    steps_before_acting: list[str] = Field(default_factory=list)
    escalate: str = "none"
    must_not: list[str] = Field(default_factory=list)
    notes: str = Field(default="", max_length=1000)


class Scenario(_Strict):
    id: str = Field(pattern=r"^(atk|ben)-[0-9]{3}-[a-z0-9-]{3,60}$")
    version: int = Field(ge=1)
    title: str = Field(min_length=5, max_length=160)
    label: Literal["attack", "benign"]
    threat: int | None = Field(default=None, ge=1, le=18)  # the row of THREATS.md an attack comes from
    benign_kind: str | None = None
    channel: Channel = "email"
    playbook: Literal["consumer", "workforce_it", "minors_platform"] = "consumer"
    tenant_domains: list[str] = Field(default_factory=list)
    persona: Persona
    account: AccountOnFile
    requester: Requester
    subject: str = Field(default="", max_length=300)
    messages: list[str] = Field(min_length=1, max_length=3)
    variants: dict[Language, list[str]] = Field(default_factory=dict)
    expect: Expectation
    agent: AgentBehaviour = Field(default_factory=AgentBehaviour)
    references: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if self.label == "attack" and self.threat is None:
            raise ValueError("an attack scenario names its THREATS.md row in `threat`")
        if self.label == "benign" and self.benign_kind not in BENIGN_KINDS:
            raise ValueError(f"a benign scenario needs benign_kind, one of {list(BENIGN_KINDS)}")
        if (self.label == "attack") != self.id.startswith("atk-"):
            raise ValueError("attack ids start with 'atk-', benign ids with 'ben-'")
        for lang, msgs in self.variants.items():
            if lang == "en" or not 1 <= len(msgs) <= 3:
                raise ValueError(f"variant {lang!r} needs 1-3 messages, in a language other than en")
        return self
