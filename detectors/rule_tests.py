"""Run every rule's inline `tests.match` / `tests.no_match` examples."""

from __future__ import annotations

from app.core.ticket import Message, Ticket
from app.core.tickettext import TicketText, build_ticket_text
from detectors.rule_detector import rule_matches
from detectors.rulepack import Rule, RuleSet


def example_text(body: str) -> TicketText:
    return build_ticket_text(Ticket(ticket_id="inline-test", messages=[Message(author="requester", body=body)]))


def run_rule_tests(ruleset: RuleSet) -> list[str]:
    """Failures as `file:line: rule id: ...`; empty when every example behaves."""
    failures: list[str] = []
    for rule in ruleset.rules:
        failures.extend(_check(rule))
    return failures


def _check(rule: Rule) -> list[str]:
    path = rule.source.rsplit(":", 1)[0]
    out = []
    for example, line in rule.tests_match:
        if not any(True for _ in rule_matches(rule, example_text(example))):
            out.append(f"{path}:{line}: {rule.id}: should match but does not: {example!r}")
    for example, line in rule.tests_no_match:
        if any(True for _ in rule_matches(rule, example_text(example))):
            out.append(f"{path}:{line}: {rule.id}: should not match but does: {example!r}")
    return out
