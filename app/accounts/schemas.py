"""Request and response bodies of the accounts API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.core.ticket import AccountDetails, AccountOnFile
from app.core.vocabulary import VerificationMethod


class AccountIn(AccountDetails):
    """PUT /v1/accounts/{id}: the account's contacts on file, roles and recent changes."""

    @field_validator("emails")
    @classmethod
    def _emails(cls, v: list[str]) -> list[str]:
        for e in v:
            if len(e) > 320 or "@" not in e.strip()[1:-1]:
                raise ValueError("each email must look like name@domain")
        return v

    @field_validator("phones")
    @classmethod
    def _phones(cls, v: list[str]) -> list[str]:
        for p in v:
            digits = sum(c.isdigit() for c in p)
            if len(p) > 64 or not 5 <= digits <= 15:
                raise ValueError("each phone needs 5 to 15 digits")
        return v


class AccountOut(AccountOnFile):
    updated_at: datetime


class VerificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: VerificationMethod
    actor: str = Field(default="", max_length=200, description="who verified; defaults to the caller")
    verified_at: datetime | None = None
    expires_at: datetime | None = None
    ttl_minutes: int | None = Field(default=None, ge=1, le=60 * 24 * 30)
    evidence_ref: str = Field(default="", max_length=500)
    ticket_id: str | None = Field(default=None, max_length=200)


class VerificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    method: str
    strength: int
    actor: str
    verified_at: datetime
    expires_at: datetime
    evidence_ref: str
    ticket_id: str | None
