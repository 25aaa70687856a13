"""Integration secrets and API credentials, encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256).

Keys come from DESKGUARD_ENCRYPTION_KEYS (comma-separated: the first encrypts, every one decrypts,
so a key can be rotated in). In development only, a key file under var/ is made on first use.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from app.errors import ConfigError
from app.settings import ROOT, Settings

DEV_KEY_FILE = ROOT / "var" / "development-encryption.key"


def _development_key(path: Path = DEV_KEY_FILE) -> str:
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode("ascii")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key


class Vault:
    def __init__(self, keys: list[str]) -> None:
        try:
            self._fernet = MultiFernet([Fernet(k.strip().encode("ascii")) for k in keys])
        except (ValueError, UnicodeEncodeError):
            raise ConfigError(
                "DESKGUARD_ENCRYPTION_KEYS: each key must be 32 url-safe base64-encoded bytes "
                "(make one with `deskguard integrations keygen`)",
                code="encryption_key_invalid",
            ) from None

    @classmethod
    def from_settings(cls, settings: Settings) -> Vault:
        keys = [k for k in settings.encryption_keys.split(",") if k.strip()]
        if not keys:
            if settings.env == "production":
                raise ConfigError("DESKGUARD_ENCRYPTION_KEYS is not set", code="encryption_key_missing")
            keys = [_development_key()]
        return cls(keys)

    def encrypt(self, value: str) -> bytes:
        return self._fernet.encrypt(value.encode("utf-8"))

    def decrypt(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(token).decode("utf-8")
        except InvalidToken:
            raise ConfigError(
                "an integration secret cannot be decrypted with DESKGUARD_ENCRYPTION_KEYS (was a key removed?)",
                code="encryption_key_mismatch",
            ) from None

    def encrypt_json(self, value: dict[str, str]) -> bytes:
        return self.encrypt(json.dumps(value, sort_keys=True))

    def decrypt_json(self, token: bytes) -> dict[str, str]:
        value = json.loads(self.decrypt(token))
        return {str(k): str(v) for k, v in value.items()}


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")
