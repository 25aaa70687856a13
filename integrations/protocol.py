"""The adapter protocol every helpdesk integration implements. Adapters only translate: they import
nothing from detectors or services."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from app.core.ticket import Ticket


@dataclass(frozen=True, slots=True)
class InboundRequest:
    """What an adapter sees of a webhook delivery: the raw body and the headers, lower-cased."""

    body: bytes
    headers: Mapping[str, str]
    query: Mapping[str, str]


class Adapter(Protocol):
    provider: str

    def verify(self, request: InboundRequest, secret: str, now: float) -> None:
        """Raise if the signature or timestamp window does not hold; compare with hmac.compare_digest."""
        ...

    def delivery_id(self, request: InboundRequest, payload: Mapping[str, Any]) -> str:
        """The vendor's delivery or event id, used for idempotency."""
        ...

    def parse(self, payload: Mapping[str, Any]) -> Ticket:
        """The vendor payload as a normalized ticket."""
        ...
