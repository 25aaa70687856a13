"""Playbook content: its shape and the fail-closed validation of one parsed YAML file.

Top level: `id` (= file stem), `version` (int >= 1), `status`, `name`, `description`,
`escalations` (queues weakest first, starting with `none`), `no_contact_escalate` (queue used
when a pending step needs a contact the account does not have), `steps` (the catalogue, in
order), `rules` (evaluated in order; every match contributes) and `tests` (inline cases).
Every key is known, every reference resolves, every action of the vocabulary is covered and
every step is used; anything else is a ConfigError naming `file:line` (the line of the mapping or
list that holds the problem).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from app.core.ticket import AccountOnFile
from app.core.vocabulary import (
    ACTIONS,
    LEVELS,
    METHOD_STRENGTH,
    VERIFICATION_METHODS,
    StepStatus,
    level_rank,
)
from app.core.yamlsource import content_error, line_of
from app.errors import ConfigError

STATUSES = ("experimental", "test", "stable", "deprecated")
CONTACT_KINDS = ("email", "phone", "any", "none")
STEP_STATUSES: tuple[str, ...] = get_args(StepStatus)
_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
_RULE_ID = re.compile(r"^[a-z][a-z0-9_-]*$")
_TOP = ("id", "version", "status", "name", "description", "escalations", "no_contact_escalate",
        "steps", "rules", "tests")


@dataclass(frozen=True, slots=True)
class Condition:
    """Holds for an account that has one of `roles_any` (if given) and none of `roles_none`."""

    roles_any: tuple[str, ...] = ()
    roles_none: tuple[str, ...] = ()

    def holds(self, roles: Collection[str]) -> bool:
        if self.roles_any and not any(role in roles for role in self.roles_any):
            return False
        return not any(role in roles for role in self.roles_none)

    def describe(self) -> str:
        parts = []
        if self.roles_any:
            parts.append("has the role " + " or ".join(self.roles_any))
        if self.roles_none:
            parts.append("has none of the roles " + ", ".join(self.roles_none))
        return " and ".join(parts)


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    label: str
    strength: int
    methods: tuple[str, ...]
    requires_contact: str  # email | phone | any | none
    applies_when: Condition | None
    forbidden: tuple[str, ...]
    line: int


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    on: str  # "listed": one of `actions` requested; "any": some action; "none": no action recognised
    actions: tuple[str, ...]
    min_level: str
    max_level: str
    applies_when: Condition | None
    require: tuple[str, ...]
    forbidden: tuple[str, ...]
    escalate: str
    why: str
    line: int


@dataclass(frozen=True, slots=True)
class TestVerification:
    id: str
    method: str
    strength: int
    minutes_ago: int
    expires_in_minutes: int


@dataclass(frozen=True, slots=True)
class PlaybookTest:
    name: str
    line: int
    actions: tuple[str, ...]
    level: str
    account: AccountOnFile | None
    verifications: tuple[TestVerification, ...]
    expect_steps: Mapping[str, str]
    expect_escalate: str
    expect_forbidden: tuple[str, ...]
    expect_rules: tuple[str, ...] | None
    expect_why: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Playbook:
    id: str
    version: int
    status: str
    name: str
    description: str
    path: Path
    escalations: tuple[str, ...]  # weakest first; "none" first
    no_contact_escalate: str
    steps: Mapping[str, Step]  # catalogue order
    rules: tuple[Rule, ...]
    tests: tuple[PlaybookTest, ...]
    sha256: str

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"


def at(value: Any, parent: Any) -> Any:
    """The node to blame for `value`: itself if it knows its line (a mapping or list), else its parent."""
    return value if hasattr(value, "line") else parent


class Checker:
    """Reads values out of line-tracking YAML mappings, raising file:line ConfigErrors."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, node: Any, message: str) -> ConfigError:
        return content_error(self.path, node, message)

    def mapping(self, node: Any, parent: Any, where: str, required: Collection[str],
                optional: Collection[str] = ()) -> dict[str, Any]:
        if not isinstance(node, dict):
            raise self.error(at(node, parent), f"{where}: expected a mapping")
        for key in node:
            if key not in required and key not in optional:
                raise self.error(node, f"{where}: unknown key {key!r}")
        for key in required:
            if key not in node:
                raise self.error(node, f"{where}: missing required key {key!r}")
        return node

    def text(self, node: dict[str, Any], key: str, where: str, pattern: re.Pattern[str] | None = None) -> str:
        value = node[key]
        if not isinstance(value, str) or not value.strip():
            raise self.error(node, f"{where}: {key} must be non-empty text")
        if pattern and not pattern.match(value):
            raise self.error(node, f"{where}: {key} {value!r} must match {pattern.pattern}")
        return value.strip()

    def integer(self, node: dict[str, Any], key: str, where: str, low: int | None = None,
                high: int | None = None) -> int:
        value = node[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(node, f"{where}: {key} must be an integer")
        if low is not None and value < low:
            raise self.error(node, f"{where}: {key} {value} is out of range (at least {low})")
        if high is not None and value > high:
            raise self.error(node, f"{where}: {key} {value} is out of range (at most {high})")
        return value

    def choice(self, node: dict[str, Any], key: str, where: str, options: Collection[str]) -> str:
        value = node[key]
        if value not in options:
            raise self.error(node, f"{where}: unknown {key} {value!r} (expected one of {', '.join(options)})")
        return str(value)

    def strings(self, node: dict[str, Any], key: str, where: str, options: Collection[str] | None = None,
                kind: str = "value", allow_empty: bool = False) -> tuple[str, ...]:
        value = node.get(key, [])
        blame = at(value, node)
        if not isinstance(value, list) or (not value and not allow_empty):
            raise self.error(blame, f"{where}: {key} must be a {'' if allow_empty else 'non-empty '}list")
        for item in value:
            if not isinstance(item, str) or not item.strip():
                raise self.error(blame, f"{where}: {key} items must be non-empty text")
            if options is not None and item not in options:
                raise self.error(blame, f"{where}: unknown {kind} {item!r} in {key}")
        if len(set(value)) != len(value):
            raise self.error(blame, f"{where}: {key} lists the same {kind} twice")
        return tuple(item.strip() for item in value)

    def condition(self, node: dict[str, Any], where: str) -> Condition | None:
        if "applies_when" not in node:
            return None
        keys = ("roles_any", "roles_none")
        raw = self.mapping(node["applies_when"], node, f"{where} applies_when", (), keys)
        if not raw:
            raise self.error(raw, f"{where} applies_when: needs roles_any or roles_none")
        any_ = self.strings(raw, "roles_any", where, kind="role", allow_empty="roles_any" not in raw)
        none = self.strings(raw, "roles_none", where, kind="role", allow_empty="roles_none" not in raw)
        for role in any_ + none:
            if not _SNAKE.match(role):
                raise self.error(raw, f"{where} applies_when: role {role!r} must match {_SNAKE.pattern}")
        return Condition(roles_any=any_, roles_none=none)


def parse_playbook(path: Path, data: Any, sha256: str = "") -> tuple[Playbook, dict[str, Any]]:
    """Validate one parsed playbook file (from `load_yaml`) except its `tests`.

    Returns the playbook (with no tests yet) and the raw top-level mapping, so the caller can
    parse the inline tests against the validated catalogue.
    """
    check = Checker(path)
    top = check.mapping(data, data, "playbook", _TOP)
    where = "playbook"
    playbook_id = check.text(top, "id", where, _SNAKE)
    version = check.integer(top, "version", where, 1)
    status = check.choice(top, "status", where, STATUSES)
    name = check.text(top, "name", where)
    description = check.text(top, "description", where)
    escalations = check.strings(top, "escalations", where, kind="queue")
    if escalations[0] != "none" or len(escalations) < 2:
        raise check.error(top["escalations"], f"{where}: escalations must be 'none' then at least one queue")
    steps_raw = top["steps"]
    if not isinstance(steps_raw, dict) or not steps_raw:
        raise check.error(at(steps_raw, top), "steps: must be a non-empty mapping")
    steps = {key: _parse_step(check, key, value, steps_raw) for key, value in steps_raw.items()}
    playbook = Playbook(
        id=playbook_id,
        version=version,
        status=status,
        name=name,
        description=description,
        path=path,
        escalations=escalations,
        no_contact_escalate=check.choice(top, "no_contact_escalate", where, escalations[1:]),
        steps=steps,
        rules=_parse_rules(check, top, steps, escalations),
        tests=(),
        sha256=sha256,
    )
    return playbook, top


def _parse_step(check: Checker, key: Any, value: Any, parent: Any) -> Step:
    if not isinstance(key, str) or not _SNAKE.match(key):
        raise check.error(parent, f"steps: step id {key!r} must match {_SNAKE.pattern}")
    where = f"step {key!r}"
    node = check.mapping(value, parent, where, ("label", "strength", "methods", "requires_contact"),
                         ("applies_when", "forbidden"))
    strength = check.integer(node, "strength", where, 1, 3)
    methods = check.strings(node, "methods", where, VERIFICATION_METHODS, kind="method")
    for method in methods:
        if METHOD_STRENGTH[method] < strength:
            raise check.error(node["methods"], f"{where}: method {method!r} (strength "
                              f"{METHOD_STRENGTH[method]}) can never satisfy a strength-{strength} step")
    return Step(
        id=key,
        label=check.text(node, "label", where),
        strength=strength,
        methods=methods,
        requires_contact=check.choice(node, "requires_contact", where, CONTACT_KINDS),
        applies_when=check.condition(node, where),
        forbidden=check.strings(node, "forbidden", where, allow_empty=True),
        line=line_of(node),
    )


def _parse_rules(check: Checker, top: dict[str, Any], steps: Mapping[str, Step],
                 escalations: tuple[str, ...]) -> tuple[Rule, ...]:
    raw = top["rules"]
    if not isinstance(raw, list) or not raw:
        raise check.error(at(raw, top), "rules: must be a non-empty list")
    rules: list[Rule] = []
    for item in raw:
        node = check.mapping(item, raw, "rule", ("id", "actions", "min_level", "escalate", "why"),
                             ("max_level", "applies_when", "require", "forbidden"))
        rule_id = check.text(node, "id", "rule", _RULE_ID)
        where = f"rule {rule_id!r}"
        if any(r.id == rule_id for r in rules):
            raise check.error(node, f"{where}: duplicate rule id")
        on = node["actions"] if node["actions"] in ("any", "none") else "listed"
        actions = check.strings(node, "actions", where, ACTIONS, kind="action") if on == "listed" else ()
        min_level = check.choice(node, "min_level", where, LEVELS)
        max_level = check.choice(node, "max_level", where, LEVELS) if "max_level" in node else LEVELS[-1]
        if level_rank(max_level) < level_rank(min_level):
            raise check.error(node, f"{where}: max_level {max_level!r} is below min_level {min_level!r}")
        require = check.strings(node, "require", where, steps, kind="step", allow_empty=True)
        forbidden = check.strings(node, "forbidden", where, allow_empty=True)
        escalate = check.choice(node, "escalate", where, escalations)
        if not require and not forbidden and escalate == "none":
            raise check.error(node, f"{where}: requires nothing, forbids nothing and does not escalate")
        rules.append(Rule(rule_id, on, actions, min_level, max_level, check.condition(node, where), require,
                          forbidden, escalate, check.text(node, "why", where), line_of(node)))
    used = {step for rule in rules for step in rule.require}
    for step in steps.values():
        if step.id not in used:
            raise ConfigError(f"{check.path}:{step.line}: step {step.id!r}: no rule requires it")
    covered = {action for rule in rules for action in rule.actions}
    for action in ACTIONS:
        if action not in covered:
            raise check.error(raw, f"rules: action {action!r} is not covered by any rule")
    return tuple(rules)
