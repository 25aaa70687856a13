"""Defaults most adapters share; an adapter overrides what its helpdesk does differently."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Literal

import httpx

from integrations.http import HelpdeskAPI
from integrations.protocol import CredentialField, InboundRequest, IntegrationConfig, Parsed


class AdapterBase:
    provider: str = ""
    title: str = ""
    credential_fields: tuple[CredentialField, ...] = ()
    signing_key_from: Literal["vendor", "deskguard"] = "deskguard"
    option_names: tuple[str, ...] = ()

    def base_url(self, credentials: Mapping[str, str]) -> str:
        return ""

    def connect(self, integration: IntegrationConfig, http: httpx.Client) -> HelpdeskAPI:
        return HelpdeskAPI(integration.api_base_url, http)

    def complete(self, parsed: Parsed, api: HelpdeskAPI) -> Parsed:
        return parsed

    def delivery_id(self, request: InboundRequest, payload: Mapping[str, Any]) -> str:
        return body_digest(request.body)

    def challenge(self, request: InboundRequest, payload: Mapping[str, Any]) -> str:
        return ""


def body_digest(body: bytes) -> str:
    """An idempotency key for vendors that send no delivery id: the same bytes are the same delivery."""
    return "sha256:" + hashlib.sha256(body).hexdigest()
