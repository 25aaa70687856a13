"""Front validates an application webhook URL with a signed `sync` event: Deskguard echoes
X-Front-Challenge when (and only when) the signature holds, and stores nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable

from fastapi.testclient import TestClient

from app.integrations.service import Installed
from app.models import Delivery
from app.settings import Settings
from tests.integrations.test_hooks_api import count

SECRET = "front-app-secret"


def sync_request(secret: str, challenge: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"type": "sync", "authorization": {"id": "cmp_abc"}}).encode()
    timestamp = str(int(time.time() * 1000))
    mac = hmac.new(secret.encode(), timestamp.encode() + b":" + body, hashlib.sha256).digest()
    return body, {
        "X-Front-Signature": base64.b64encode(mac).decode(),
        "X-Front-Request-Timestamp": timestamp,
        "X-Front-Challenge": challenge,
        "Content-Type": "application/json",
    }


def test_signed_sync_gets_its_challenge_back_and_nothing_is_stored(
    client: TestClient, settings: Settings, install: Callable[..., Installed]
) -> None:
    installed = install(
        "front",
        "https://api2.frontapp.com",
        credentials={"api_token": "t"},
        secret=SECRET,
        options={"webhook_kind": "app"},
    )
    for challenge in ("first-Xy9", "second-Ab3"):  # saving the webhook again sends the same body
        body, headers = sync_request(SECRET, challenge)
        response = client.post(f"/v1/hooks/front/{installed.id}", content=body, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["challenge"] == challenge
    assert count(settings, Delivery, integration_id=installed.id) == 0

    body, headers = sync_request("not-the-secret", "third")
    refused = client.post(f"/v1/hooks/front/{installed.id}", content=body, headers=headers)
    assert refused.status_code == 401
    assert "third" not in refused.text
