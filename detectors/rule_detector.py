"""The detector that runs every loaded rule pack over the folded ticket text."""

from __future__ import annotations

import re
from collections.abc import Iterator

from app.core.language import languages_of
from app.core.tickettext import TicketText
from detectors.protocol import ActionHit, Analysis, Findings, Hit
from detectors.rulepack import Rule, RuleSet

MAX_EVIDENCE = 5
_SENTENCE_END = re.compile(r"[.!?\n;]")


def _sentence(folded: str, start: int, end: int) -> tuple[int, int]:
    lo = max(0, start - 200)
    prev = [m.end() for m in _SENTENCE_END.finditer(folded, lo, start)]
    nxt = _SENTENCE_END.search(folded, end, min(len(folded), end + 200))
    return (prev[-1] if prev else lo), (nxt.start() if nxt else min(len(folded), end + 200))


def rule_matches(rule: Rule, text: TicketText) -> Iterator[tuple[int, int]]:
    """Spans (in clean-text offsets) where the rule matches and no `unless` context cancels it."""
    for start, end in _folded_matches(rule, text):
        yield text.clean_span(start, end)


def _folded_matches(rule: Rule, text: TicketText) -> Iterator[tuple[int, int]]:
    folded = text.folded
    for m in rule.regex.finditer(folded):
        if m.end() == m.start():
            continue
        if rule.unless is not None:
            s, e = _sentence(folded, m.start(), m.end())
            if rule.unless.search(folded, s, e):
                continue
        yield m.start(), m.end()


class RuleDetector:
    name = "rules"

    def __init__(self, ruleset: RuleSet) -> None:
        self.rules = tuple(r for r in ruleset.rules if r.status != "deprecated")

    def detect(self, analysis: Analysis, prior: Findings) -> Findings:
        text = analysis.text
        out = Findings()
        languages = languages_of(text.folded, analysis.ticket.language)
        best: dict[str, Hit] = {}  # the same rule in several languages is one signal
        for rule in self.rules:
            if rule.language not in languages:
                continue
            spans = list(rule_matches(rule, text))
            if not spans:
                continue
            fresh = [s for s in spans if not text.in_quote(s[0])]
            if rule.kind == "action":
                if fresh:  # what the requester quotes is not what they ask for
                    evidence = tuple(text.evidence(s, e) for s, e in fresh[:MAX_EVIDENCE])
                    out.actions.append(ActionHit(rule.action, rule.confidence, rule.id, evidence))
                continue
            shown = fresh or spans
            hit = Hit(
                id=rule.id,
                detector=f"rules:{rule.pack}",
                tactic=rule.tactic,
                weight=rule.weight,
                explanation=rule.explanation,
                evidence=tuple(text.evidence(s, e) for s, e in shown[:MAX_EVIDENCE]),
                rule_version=rule.version,
                language=rule.language,
                quoted=not fresh,
                shadow=rule.status == "experimental",
                staff_claim=rule.staff_claim,
            )
            key = rule.id.split(".", 1)[1]
            kept = best.get(key)
            if kept is None or (kept.quoted, -len(kept.evidence)) > (hit.quoted, -len(hit.evidence)):
                best[key] = hit
        out.hits.extend(best.values())
        return out
