"""The generic JSON webhook: a ticket in Deskguard's own normalized shape, signed by the sender.

Signature: `X-Deskguard-Timestamp: <unix seconds>` and
`X-Deskguard-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`, accepted within
five minutes of now. Several `v1=` values separated by commas are accepted (secret rotation).
`X-Deskguard-Delivery` names the delivery for idempotency (else the body's SHA-256).

Write-back: a signed JSON POST of the note to the integration's callback URL (its API base URL),
with `Idempotency-Key` set to the note's marker so that the receiver can drop repeats.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from app.core.ticket import Ticket
from integrations.base import AdapterBase, body_digest
from integrations.http import HelpdeskAPI
from integrations.protocol import InboundRequest, IntegrationConfig, Note, Parsed, PayloadError, SignatureError
from integrations.signing import check_window, hmac_hex, require_header, require_secret, same

SIGNATURE_HEADER = "X-Deskguard-Signature"
TIMESTAMP_HEADER = "X-Deskguard-Timestamp"
DELIVERY_HEADER = "X-Deskguard-Delivery"


def sign(secret: str, body: bytes, timestamp: int) -> str:
    return "v1=" + hmac_hex(secret, f"{timestamp}.".encode() + body)


class GenericAdapter(AdapterBase):
    provider = "generic"
    title = "Generic JSON webhook"
    signing_key_from = "deskguard"

    def verify(self, request: InboundRequest, integration: IntegrationConfig, now: float) -> None:
        secret = require_secret(integration.secret)
        given = require_header(request.headers, SIGNATURE_HEADER)
        timestamp = require_header(request.headers, TIMESTAMP_HEADER)
        if not timestamp.isdigit():
            raise SignatureError("signature_invalid", f"{TIMESTAMP_HEADER} must be unix seconds")
        check_window(timestamp, now)
        expected = sign(secret, request.body, int(timestamp))
        if not any(same(expected, part.strip()) for part in given.split(",")):
            raise SignatureError("signature_invalid", f"{SIGNATURE_HEADER} does not match the body and the secret")

    def delivery_id(self, request: InboundRequest, payload: Mapping[str, Any]) -> str:
        given = request.headers.get(DELIVERY_HEADER.lower(), "").strip()
        return given[:200] if given else body_digest(request.body)

    def parse(self, payload: Mapping[str, Any], integration: IntegrationConfig) -> Parsed:
        try:
            ticket = Ticket.model_validate(payload)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "(root)"
            raise PayloadError(f"not a normalized ticket: {where}: {err['msg']}") from None
        return Parsed(ref=ticket.ticket_id, ticket=ticket)

    def write_back(self, api: HelpdeskAPI, ref: str, note: Note, integration: IntegrationConfig) -> None:
        body = json.dumps(
            {
                "type": "deskguard.assessment",
                "ticket_id": ref,
                "assessment_id": note.assessment_id,
                "level": note.level,
                "score": note.score,
                "headline": note.headline,
                "reasons": list(note.reasons),
                "required_steps": list(note.steps),
                "forbidden": list(note.forbidden),
                "tags": list(note.tags),
                "remove_tags": list(note.stale_tags),
                "note": note.text,
            },
            separators=(",", ":"),
        ).encode()
        timestamp = int(time.time())
        api.request(
            "POST",
            "",
            headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(integration.secret, body, timestamp),
                TIMESTAMP_HEADER: str(timestamp),
                "Idempotency-Key": note.marker,
            },
            content=body,
        )

    def check(self, api: HelpdeskAPI) -> str:
        return f"callback URL {api.base_url} (checked by the first write-back)"

    def sample(self, integration: IntegrationConfig, ticket: Ticket, now: float) -> InboundRequest:
        body = ticket.model_dump_json(exclude_defaults=True).encode()
        timestamp = int(now)
        return InboundRequest(
            body=body,
            headers={
                "content-type": "application/json",
                SIGNATURE_HEADER.lower(): sign(integration.secret, body, timestamp),
                TIMESTAMP_HEADER.lower(): str(timestamp),
                DELIVERY_HEADER.lower(): f"sample-{ticket.ticket_id}-{timestamp}",
            },
        )

    def setup_steps(self, integration: IntegrationConfig, webhook_url: str) -> list[str]:
        return [
            f"POST each new or updated ticket as JSON in Deskguard's normalized ticket shape to {webhook_url}",
            "Sign every request: X-Deskguard-Timestamp: <unix seconds>, and X-Deskguard-Signature: "
            "v1=<hex HMAC-SHA256 of '<timestamp>.<raw body>' with the secret below>",
            "Send a unique X-Deskguard-Delivery id per delivery and reuse it when you retry",
            "Give Deskguard a callback URL (--api-base-url) that accepts the signed assessment note",
        ]


ADAPTER = GenericAdapter()
