"""Which helpdesks Deskguard integrates with: provider name -> adapter (module integrations.<provider>)."""

from __future__ import annotations

import importlib
from functools import cache

from integrations.protocol import Adapter

PROVIDERS: tuple[str, ...] = (
    "generic",
    "zendesk",
    "freshdesk",
    "intercom",
    "helpscout",
    "front",
    "zammad",
    "jira_service_management",
    "chatwoot",
)


@cache
def adapter_for(provider: str) -> Adapter | None:
    if provider not in PROVIDERS:
        return None
    module = importlib.import_module(f"integrations.{provider}")
    adapter: Adapter = module.ADAPTER
    return adapter


def all_adapters() -> list[Adapter]:
    return [a for p in PROVIDERS if (a := adapter_for(p)) is not None]
