"""Lookalike domains: sender and written domains that imitate the tenant's own domains."""

from __future__ import annotations

from app.core.entities import email_domain, registrable_domain
from app.core.lookalike import lookalike_of
from detectors.protocol import Analysis, Findings, Hit

NAME = "lookalike_domain"


def own_domains(analysis: Analysis) -> set[str]:
    """The tenant's own domains (set when the tenant is created)."""
    return {registrable_domain(d.lower()) for d in analysis.context.tenant_domains if d}


class LookalikeDomainDetector:
    name = NAME

    def detect(self, analysis: Analysis, prior: Findings) -> Findings:
        own = own_domains(analysis)
        out = Findings()
        if not own:
            return out
        sender = email_domain(analysis.ticket.requester.email.lower()) if analysis.ticket.requester.email else ""
        if sender:
            found = lookalike_of(sender, own)
            if found:
                out.hits.append(
                    Hit(
                        id="builtin.lookalike.sender",
                        detector=NAME,
                        tactic="lookalike_domain",
                        weight=30,
                        explanation=f"Sender's domain imitates {found.own} ({found.technique.replace('_', ' ')})",
                    )
                )
        written = []
        for entity in analysis.entities:
            if entity.kind not in ("email", "url", "domain"):
                continue
            host = email_domain(entity.value) if entity.kind == "email" else _host(entity.value)
            found = lookalike_of(host, own) if host else None
            if found:
                written.append((entity, found))
        if written:
            entity, found = written[0]
            out.hits.append(
                Hit(
                    id="builtin.lookalike.in_text",
                    detector=NAME,
                    tactic="lookalike_domain",
                    weight=25,
                    explanation=f"Mentions a domain that imitates {found.own} ({found.technique.replace('_', ' ')})",
                    evidence=tuple(analysis.evidence(e.start, e.end) for e, _ in written[:5]),
                    quoted=all(analysis.text.in_quote(e.start) for e, _ in written),
                )
            )
        return out


def _host(value: str) -> str:
    v = value.lower()
    for prefix in ("https://", "http://"):
        if v.startswith(prefix):
            v = v[len(prefix) :]
    return v.split("/", 1)[0].split(":", 1)[0].split("?", 1)[0]
