"""Playbooks: which verification steps a ticket needs before the agent acts, and what never to do.

`apply_playbook` is pure: requested actions, risk level, the account on file and the recorded
verification events in; required steps (pending, satisfied or not applicable), forbidden
shortcuts, the escalation queue and the rules that fired out. The clock is the `now` passed in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.core.assessment import RequiredStep
from app.core.context import VerificationEvent
from app.core.playbook_schema import (
    STEP_STATUSES,
    Checker,
    Playbook,
    PlaybookTest,
    Rule,
    Step,
    TestVerification,
    at,
    parse_playbook,
)
from app.core.ticket import AccountOnFile
from app.core.vocabulary import (
    ACTIONS,
    LEVELS,
    METHOD_STRENGTH,
    VERIFICATION_METHODS,
    StepStatus,
    level_rank,
)
from app.core.yamlsource import content_error, line_of, load_yaml
from app.errors import ConfigError

TEST_NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)  # the clock of every inline test
TEST_EMAIL = "customer@example.com"
TEST_PHONE = "+15555550100"
STANDING_METHODS = frozenset({"authenticated_session", "cooling_off"})  # states, not one-time proofs
_CONTACT_WORDS = {"email": "email address", "phone": "phone number", "any": "email address or phone number"}


@dataclass(frozen=True, slots=True)
class PlaybookResult:
    playbook: str  # "<id>@<version>"
    required_steps: list[RequiredStep]
    forbidden: list[str]
    escalate: str
    rules_applied: list[str]


def load_playbook(path: Path) -> Playbook:
    """Load and validate one playbook file; any problem is a ConfigError naming file:line."""
    data = load_yaml(path)
    playbook, top = parse_playbook(path, data, hashlib.sha256(path.read_bytes()).hexdigest())
    if path.stem != playbook.id:
        raise content_error(path, top, f"playbook: id {playbook.id!r} must equal the file name {path.stem!r}")
    return replace(playbook, tests=_parse_tests(Checker(path), top, playbook))


def load_playbooks(directory: Path) -> dict[str, Playbook]:
    """Load every `*.yaml` playbook in `directory`, keyed by id.

    Ids are unique across files because each id must equal its file's stem. A `.yml` file is an
    error: only `*.yaml` ships in the package, so it would load here and be missing in production.
    """
    if not directory.is_dir():
        raise ConfigError(f"{directory}: playbook directory not found")
    for stray in sorted(directory.glob("*.yml")):
        raise ConfigError(f"{stray}:1: playbooks must be named *.yaml (only those are packaged)")
    found = {playbook.id: playbook for playbook in map(load_playbook, sorted(directory.glob("*.yaml")))}
    if not found:
        raise ConfigError(f"{directory}: no playbooks found")
    return found


def apply_playbook(
    playbook: Playbook,
    *,
    actions: Sequence[str],
    level: str,
    account: AccountOnFile | None,
    verifications: Sequence[VerificationEvent],
    now: datetime,
) -> PlaybookResult:
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    requested = list(dict.fromkeys(actions))
    for action in requested:
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
    roles = {role.strip().lower() for role in account.roles} if account else set()
    matched: list[tuple[Rule, tuple[str, ...]]] = []
    for rule in playbook.rules:
        triggers = _triggers(rule, requested)
        in_band = level_rank(rule.min_level) <= level_rank(level) <= level_rank(rule.max_level)
        if triggers is not None and in_band and (rule.applies_when is None or rule.applies_when.holds(roles)):
            matched.append((rule, triggers))

    # Each step's `why` comes from the first rule that requires it and names every action behind it.
    reason: dict[str, tuple[Rule, tuple[str, ...]]] = {}
    for rule, triggers in matched:
        for step_id in rule.require:
            first, seen = reason.get(step_id, (rule, ()))
            reason[step_id] = (first, seen + tuple(a for a in triggers if a not in seen))
    catalogue = list(playbook.steps)
    order = sorted(reason, key=lambda s: (-playbook.steps[s].strength, catalogue.index(s)))
    applicable = {s for s in order if _applies(playbook.steps[s], roles)}
    proof = _assign([playbook.steps[s] for s in order if s in applicable], verifications, now)

    rank = playbook.escalations.index
    escalate = max((rule.escalate for rule, _ in matched), key=rank, default="none")
    steps: list[RequiredStep] = []
    for step_id in order:
        step = playbook.steps[step_id]
        why, event = _reason(*reason[step_id], level), proof.get(step_id)
        status: StepStatus = "pending"
        if step_id not in applicable:
            status = "not_applicable"
            condition = step.applies_when.describe() if step.applies_when else ""
            why = f"Not needed: this step applies only when the account {condition}."
        elif event is not None:
            status = "satisfied"
        elif not _has_contact(step.requires_contact, account):
            queue = playbook.no_contact_escalate
            why = (f"{why[:-1]}; no {_CONTACT_WORDS[step.requires_contact]} is on file for this account, "
                   f"so escalate to {queue} and never use contact details given in the ticket.")
            escalate = max(escalate, queue, key=rank)
        steps.append(RequiredStep(step=step_id, label=step.label, strength=step.strength,
                                  methods=list(step.methods), status=status, why=why,
                                  satisfied_by=event.id if event else None))

    forbidden: dict[str, None] = {}
    for rule, _ in matched:
        forbidden.update(dict.fromkeys(rule.forbidden))
        for step_id in rule.require:
            if step_id in applicable:
                forbidden.update(dict.fromkeys(playbook.steps[step_id].forbidden))
    return PlaybookResult(playbook=playbook.ref, required_steps=steps, forbidden=list(forbidden),
                          escalate=escalate, rules_applied=[rule.id for rule, _ in matched])


def _triggers(rule: Rule, requested: Sequence[str]) -> tuple[str, ...] | None:
    """The requested actions that make `rule` match, or None when it does not match."""
    if rule.on == "none":
        return None if requested else ()
    hits = tuple(a for a in requested if rule.on == "any" or a in rule.actions)  # in request order
    return hits or None


def _applies(step: Step, roles: set[str]) -> bool:
    return step.applies_when is None or step.applies_when.holds(roles)


def _has_contact(kind: str, account: AccountOnFile | None) -> bool:
    if kind == "none":
        return True
    if account is None:
        return False
    has_email = kind in ("email", "any") and any(e.strip() for e in account.emails)
    return has_email or (kind in ("phone", "any") and any(p.strip() for p in account.phones))


def _reason(rule: Rule, triggers: tuple[str, ...], level: str) -> str:
    base = rule.why.strip().rstrip(".")
    if not triggers:
        return f"{base} (no specific request recognised; risk is {level})."
    return f"{base} (requested: {', '.join(a.replace('_', ' ') for a in triggers)})."


def _proves(event: VerificationEvent, step: Step, now: datetime) -> bool:
    # An event never counts for more than its method can carry (a knowledge check stays at 1).
    strength = min(event.strength, METHOD_STRENGTH.get(event.method, 0))
    return event.method in step.methods and strength >= step.strength and event.valid_at(now)


def _assign(steps: Sequence[Step], events: Sequence[VerificationEvent],
            now: datetime) -> dict[str, VerificationEvent]:
    """Which event proves which step.

    A standing state (a signed-in session, an elapsed cooling-off) proves every step it fits. A
    one-time proof (code, callback, approval, ID check) proves at most one step: the events are
    matched to steps so that as many steps as possible are proven, steps served in order
    (strongest first) and each preferring the most recent event.
    """
    newest = sorted(range(len(events)), key=lambda i: (-events[i].verified_at.timestamp(), events[i].id))
    standing = [i for i in newest if events[i].method in STANDING_METHODS]
    once = [i for i in newest if events[i].method not in STANDING_METHODS]
    proof: dict[str, VerificationEvent] = {}
    for step in steps:
        fits = [i for i in standing if _proves(events[i], step, now)]
        if fits:
            proof[step.id] = events[fits[0]]
    candidates = {s.id: [i for i in once if _proves(events[i], s, now)] for s in steps if s.id not in proof}
    owner: dict[int, str] = {}

    def claim(step_id: str, seen: set[int]) -> bool:
        for index in candidates[step_id]:
            if index in seen:
                continue
            seen.add(index)
            if index not in owner or claim(owner[index], seen):
                owner[index] = step_id
                return True
        return False

    for step_id in candidates:
        claim(step_id, set())
    return proof | {step_id: events[index] for index, step_id in owner.items()}


def run_playbook_tests(playbook: Playbook) -> list[str]:
    """Run the playbook's inline tests; each failure reads `file:line: test 'name': expected ..., got ...`."""
    failures: list[str] = []
    for test in playbook.tests:
        events = [
            VerificationEvent(id=v.id, method=v.method, strength=v.strength, actor="inline-test",
                              verified_at=TEST_NOW - timedelta(minutes=v.minutes_ago),
                              expires_at=TEST_NOW + timedelta(minutes=v.expires_in_minutes))
            for v in test.verifications
        ]
        result = apply_playbook(playbook, actions=test.actions, level=test.level, account=test.account,
                                verifications=events, now=TEST_NOW)
        prefix = f"{playbook.path}:{test.line}: test '{test.name}'"
        got = {s.step: s.status for s in result.required_steps}
        if got != dict(test.expect_steps):
            failures.append(f"{prefix}: expected steps {_show(test.expect_steps)}, got {_show(got)}")
        if result.escalate != test.expect_escalate:
            failures.append(f"{prefix}: expected escalate {test.expect_escalate!r}, got {result.escalate!r}")
        for text in test.expect_forbidden:
            if not any(text.lower() in line.lower() for line in result.forbidden):
                failures.append(f"{prefix}: expected a forbidden shortcut containing {text!r}, "
                                f"got {result.forbidden}")
        if test.expect_rules is not None and tuple(result.rules_applied) != test.expect_rules:
            failures.append(f"{prefix}: expected rules {list(test.expect_rules)}, got {result.rules_applied}")
        whys = {s.step: s.why for s in result.required_steps}
        for step_id, text in test.expect_why.items():
            if text.lower() not in whys.get(step_id, "").lower():
                failures.append(f"{prefix}: expected why of {step_id} to contain {text!r}, "
                                f"got {whys.get(step_id)!r}")
    return failures


def _show(steps: Mapping[str, str]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in sorted(steps.items())) + "}"


def _parse_tests(check: Checker, top: dict[str, Any], playbook: Playbook) -> tuple[PlaybookTest, ...]:
    raw = top["tests"]
    if not isinstance(raw, list) or not raw:
        raise check.error(at(raw, top), "tests: must be a non-empty list")
    tests: list[PlaybookTest] = []
    for item in raw:
        node = check.mapping(item, raw, "test", ("name", "level", "expect"),
                             ("actions", "account", "verifications"))
        name = check.text(node, "name", "test")
        where = f"test {name!r}"
        if any(t.name == name for t in tests):
            raise check.error(node, f"{where}: duplicate test name")
        expect = check.mapping(node["expect"], node, f"{where} expect", ("steps", "escalate"),
                               ("forbidden", "rules", "why"))
        rule_ids = [r.id for r in playbook.rules]
        tests.append(PlaybookTest(
            name=name,
            line=line_of(node),
            actions=check.strings(node, "actions", where, ACTIONS, kind="action", allow_empty=True),
            level=check.choice(node, "level", where, LEVELS),
            account=_test_account(check, node, where),
            verifications=_test_verifications(check, node, where),
            expect_steps=_step_map(check, expect, "steps", where, playbook, STEP_STATUSES),
            expect_escalate=check.choice(expect, "escalate", f"{where} expect", playbook.escalations),
            expect_forbidden=check.strings(expect, "forbidden", where, allow_empty=True),
            expect_rules=check.strings(expect, "rules", where, rule_ids, kind="rule", allow_empty=True)
            if "rules" in expect else None,
            expect_why=_step_map(check, expect, "why", where, playbook, None),
        ))
    return tuple(tests)


def _step_map(check: Checker, expect: dict[str, Any], key: str, where: str, playbook: Playbook,
              values: Sequence[str] | None) -> dict[str, str]:
    raw = expect.get(key, {})
    if not isinstance(raw, dict):
        raise check.error(at(raw, expect), f"{where} expect: {key} must be a mapping of step id to text")
    for step_id, value in raw.items():
        if step_id not in playbook.steps:
            raise check.error(at(raw, expect), f"{where} expect: unknown step {step_id!r} in {key}")
        if not isinstance(value, str) or not value or (values is not None and value not in values):
            raise check.error(at(raw, expect), f"{where} expect: bad value {value!r} for {step_id} in {key}")
    return dict(raw)


def _test_account(check: Checker, node: dict[str, Any], where: str) -> AccountOnFile | None:
    if "account" not in node:
        return AccountOnFile(id="test-account", emails=[TEST_EMAIL], phones=[TEST_PHONE])
    if node["account"] is None:
        return None
    raw = check.mapping(node["account"], node, f"{where} account", (), ("roles", "contacts"))
    contacts = (check.strings(raw, "contacts", where, ("email", "phone"), kind="contact", allow_empty=True)
                if "contacts" in raw else ("email", "phone"))
    return AccountOnFile(id="test-account", emails=[TEST_EMAIL] if "email" in contacts else [],
                         phones=[TEST_PHONE] if "phone" in contacts else [],
                         roles=list(check.strings(raw, "roles", where, kind="role", allow_empty=True)))


def _test_verifications(check: Checker, node: dict[str, Any], where: str) -> tuple[TestVerification, ...]:
    raw = node.get("verifications", [])
    if not isinstance(raw, list):
        raise check.error(at(raw, node), f"{where}: verifications must be a list")
    out: list[TestVerification] = []
    for number, item in enumerate(raw, 1):
        v = check.mapping(item, raw, f"{where} verification", ("method", "minutes_ago", "expires_in_minutes"),
                          ("strength", "id"))
        method = check.choice(v, "method", where, VERIFICATION_METHODS)
        strength = check.integer(v, "strength", where, 1, 3) if "strength" in v else METHOD_STRENGTH[method]
        event = TestVerification(
            id=check.text(v, "id", where) if "id" in v else f"v{number}",
            method=method,
            strength=strength,
            minutes_ago=check.integer(v, "minutes_ago", where),
            expires_in_minutes=check.integer(v, "expires_in_minutes", where),
        )
        if event.expires_in_minutes <= -event.minutes_ago:
            raise check.error(v, f"{where}: verification {event.id!r} expires before it was made")
        out.append(event)
    return tuple(out)
