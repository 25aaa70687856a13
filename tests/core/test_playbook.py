"""Playbooks: shipped content passes its inline tests, the loader fails closed with file:line, and
the engine's rules (expiry, strength, dedupe, escalation order, one event per step) hold."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.core.context import VerificationEvent
from app.core.playbook import (
    Playbook,
    PlaybookResult,
    apply_playbook,
    load_playbook,
    load_playbooks,
    run_playbook_tests,
)
from app.core.ticket import AccountOnFile
from app.core.vocabulary import ACTIONS, LEVELS
from app.errors import ConfigError
from playbooks import PLAYBOOK_DIR

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SHIPPED = sorted(p.stem for p in PLAYBOOK_DIR.glob("*.yaml"))
ALL_ACTIONS = ", ".join(ACTIONS)

# A minimal valid playbook; each loader case below breaks it in one place.
BASE = f"""\
id: sample
version: 1
status: test
name: Sample
description: A minimal valid playbook.
escalations: [none, team_lead, security]
no_contact_escalate: security
steps:
  possession_on_file:
    label: Send a code to the email or phone on file
    strength: 2
    methods: [email_code, sms_code]
    requires_contact: any
  id_check:
    label: Verify photo ID
    strength: 3
    methods: [identity_document]
    requires_contact: none
    applies_when: {{roles_any: [admin]}}
rules:
  - id: everything
    actions: [{ALL_ACTIONS}]
    min_level: low
    require: [possession_on_file]
    escalate: none
    why: Sensitive request
  - id: admins
    actions: [admin_access]
    min_level: medium
    max_level: critical
    require: [id_check]
    escalate: security
    why: Admins are targets
tests:
  - name: reset
    actions: [password_reset]
    level: low
    expect:
      steps: {{possession_on_file: pending}}
      escalate: none
"""

STEPS_BLOCK = BASE[BASE.index("steps:\n") : BASE.index("rules:\n")]
RULES_BLOCK = BASE[BASE.index("rules:\n") : BASE.index("tests:\n")]
TESTS_BLOCK = BASE[BASE.index("tests:\n") :]

SPECIFIC = ("password_reset", "mfa_reset", "email_change", "admin_access")
OTHERS = ", ".join(a for a in ACTIONS if a not in SPECIFIC)
# A playbook for engine behaviour: overlapping methods, an admin-only step, two rules sharing a step.
BEHAVIOUR = f"""\
id: behaviour
version: 3
status: test
name: Behaviour
description: Engine behaviour fixture.
escalations: [none, team_lead, security, legal]
no_contact_escalate: team_lead
steps:
  code_any: {{label: Code or session, strength: 2, methods: [email_code, sms_code, authenticated_session],
              requires_contact: any, forbidden: [Never use the ticket's contact]}}
  code_email: {{label: Code to email on file, strength: 2, methods: [email_code], requires_contact: email}}
  session: {{label: Signed-in session, strength: 2, methods: [authenticated_session], requires_contact: none}}
  id_check: {{label: Photo ID, strength: 3, methods: [identity_document, in_person], requires_contact: none}}
  admin_check: {{label: Admin approval, strength: 3, methods: [manager_approval], requires_contact: none,
                 applies_when: {{roles_any: [admin]}}}}
rules:
  - {{id: reset, actions: [password_reset, mfa_reset], min_level: low, require: [code_any],
      forbidden: [Never use the ticket's contact, Shared line], escalate: none,
      why: Resets hand over the account.}}
  - {{id: contact, actions: [email_change], min_level: low, require: [code_email, code_any],
      forbidden: [Shared line], escalate: team_lead, why: Contact changes start takeovers}}
  - {{id: high, actions: [password_reset, email_change], min_level: high, require: [id_check],
      escalate: security, why: High risk}}
  - {{id: admin, actions: [admin_access], min_level: low, require: [admin_check, session], escalate: legal,
      why: Admin access}}
  - {{id: rest, actions: [{OTHERS}], min_level: low, require: [session], escalate: none, why: Other}}
  - {{id: quiet-critical, actions: none, min_level: critical, require: [code_any], escalate: security,
      why: Critical with nothing recognised}}
tests:
  - name: smoke
    actions: [password_reset]
    level: low
    expect: {{steps: {{code_any: pending}}, escalate: none}}
"""


def write(tmp_path: Path, text: str, name: str = "sample.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of_text(text: str, anchor: str) -> int:
    assert text.count(anchor) == 1, f"anchor {anchor!r} must occur once"
    return text[: text.index(anchor)].count("\n") + 1


# --- shipped playbooks ---------------------------------------------------------------------------


def test_shipped_playbooks_load() -> None:
    assert set(load_playbooks(PLAYBOOK_DIR)) == {"consumer", "workforce_it", "minors_platform"}


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_inline_tests_pass(name: str) -> None:
    playbook = load_playbook(PLAYBOOK_DIR / f"{name}.yaml")
    assert len(playbook.tests) >= 12
    failures = run_playbook_tests(playbook)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_inline_tests_cover_the_edges(name: str) -> None:
    tests = load_playbook(PLAYBOOK_DIR / f"{name}.yaml").tests
    events = [v for t in tests for v in t.verifications]
    assert any("satisfied" in t.expect_steps.values() for t in tests)
    assert any(v.expires_in_minutes <= 0 for v in events), "an expired event"
    assert any(v.method == "knowledge_check" for v in events), "a too-weak method"
    assert any(not t.actions and t.level == "low" and not t.expect_steps for t in tests), "no action, low"


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("roles", [[], ["admin"], ["minor", "student"]])
def test_shipped_every_action_at_every_level_needs_something(name: str, roles: list[str]) -> None:
    playbook = load_playbook(PLAYBOOK_DIR / f"{name}.yaml")
    account = AccountOnFile(id="a", emails=["a@example.com"], phones=["+15555550100"], roles=roles)
    for action in ACTIONS:
        for level in LEVELS:
            result = apply_playbook(playbook, actions=[action], level=level, account=account, verifications=[], now=NOW)
            assert any(s.status == "pending" for s in result.required_steps), (action, level)
    quiet = apply_playbook(playbook, actions=[], level="low", account=account, verifications=[], now=NOW)
    assert (quiet.required_steps, quiet.forbidden, quiet.escalate) == ([], [], "none")
    if not roles:  # an ordinary account's calm reset needs at most one possession-strength step
        calm = apply_playbook(
            playbook, actions=["password_reset"], level="low", account=account, verifications=[], now=NOW
        )
        assert len(calm.required_steps) == 1 and calm.required_steps[0].strength <= 2


# --- loader: fail closed with file:line ----------------------------------------------------------

# Each case breaks BASE in one place: (case, old text, new text, anchor, message fragment). The error
# must name the line where `anchor` sits in the broken file: the mapping or list holding the problem.
# fmt: off
LOADER_CASES = [
    ("unknown top key", "version: 1\n", "version: 1\ncolour: blue\n", "id: sample", "unknown key 'colour'"),
    ("missing id", "id: sample\n", "", "version: 1", "missing required key 'id'"),
    ("missing version", "version: 1\n", "", "id: sample", "missing required key 'version'"),
    ("version not int", "version: 1", "version: one", "id: sample", "version must be an integer"),
    ("version zero", "version: 1", "version: 0", "id: sample", "version 0 is out of range"),
    ("id not file name", "id: sample", "id: other", "id: other", "must equal the file name 'sample'"),
    ("unknown status", "status: test", "status: live", "id: sample", "unknown status 'live'"),
    ("missing wording", "description: A minimal valid playbook.", "description: ''", "id: sample",
     "description must be non-empty text"),
    ("escalations order", "[none, team_lead, security]", "[team_lead, none]", "escalations: [team_lead",
     "escalations must be 'none' then"),
    ("no-contact queue none", "no_contact_escalate: security", "no_contact_escalate: none", "id: sample",
     "unknown no_contact_escalate 'none'"),
    ("empty steps", STEPS_BLOCK, "steps: {}\n", "steps: {}", "steps: must be a non-empty mapping"),
    ("unknown step key", "requires_contact: any\n", "requires_contact: any\n    colour: red\n",
     "    label: Send a code", "step 'possession_on_file': unknown key 'colour'"),
    ("missing label", "    label: Verify photo ID\n", "", "    strength: 3", "missing required key 'label'"),
    ("strength too high", "strength: 2", "strength: 4", "    label: Send a code", "4 is out of range"),
    ("strength zero", "strength: 2", "strength: 0", "    label: Send a code", "0 is out of range"),
    ("unknown method", "[email_code, sms_code]", "[email_code, pigeon]", "methods: [email_code, pigeon]",
     "unknown method 'pigeon'"),
    ("one method too weak", "methods: [identity_document]", "methods: [identity_document, knowledge_check]",
     "methods: [identity_document, knowledge_check]", "'knowledge_check' (strength 1) can never satisfy"),
    ("all methods too weak", "methods: [identity_document]", "methods: [email_code]",
     "methods: [email_code]\n", "'email_code' (strength 2) can never satisfy a strength-3 step"),
    ("unknown contact kind", "requires_contact: any", "requires_contact: fax", "    label: Send a code",
     "unknown requires_contact 'fax'"),
    ("duplicate step id", "  id_check:\n", "  possession_on_file:  # again\n", "possession_on_file:  # again",
     "duplicate key 'possession_on_file'"),
    ("bad applies_when", "{roles_any: [admin]}", "{roles_some: [admin]}", "applies_when: {roles_some",
     "applies_when: unknown key 'roles_some'"),
    ("empty applies_when", "{roles_any: [admin]}", "{}", "applies_when: {}", "needs roles_any or roles_none"),
    ("empty rules", RULES_BLOCK, "rules: []\n", "rules: []", "rules: must be a non-empty list"),
    ("unknown rule key", "    why: Sensitive request\n", "    why: Sensitive request\n    colour: red\n",
     "  - id: everything", "unknown key 'colour'"),
    ("unknown action", "actions: [admin_access]", "actions: [admin_acess]", "actions: [admin_acess]",
     "unknown action 'admin_acess'"),
    ("unknown level", "min_level: medium", "min_level: severe", "  - id: admins", "min_level 'severe'"),
    ("max below min", "max_level: critical", "max_level: low", "  - id: admins", "max_level 'low' is below"),
    ("unknown step reference", "require: [id_check]", "require: [id_chek]", "require: [id_chek]",
     "unknown step 'id_chek'"),
    ("duplicate rule id", "  - id: admins", "  - id: everything", "  - id: everything\n    actions: [admin",
     "duplicate rule id"),
    ("missing why", "    why: Admins are targets\n", "", "  - id: admins", "missing required key 'why'"),
    ("unknown queue", "    escalate: security", "    escalate: securty", "  - id: admins",
     "unknown escalate 'securty'"),
    ("rule does nothing", "    require: [id_check]\n    escalate: security", "    escalate: none",
     "  - id: admins", "requires nothing, forbids nothing and does not escalate"),
    ("unused step", "    require: [id_check]\n", "", "    label: Verify photo ID", "'id_check': no rule"),
    ("action not covered", "actions: [password_reset, ", "actions: [", "  - id: everything",
     "action 'password_reset' is not covered"),
    ("empty tests", TESTS_BLOCK, "tests: []\n", "tests: []", "tests: must be a non-empty list"),
    ("missing tests", TESTS_BLOCK, "", "id: sample", "missing required key 'tests'"),
    ("test unknown step", "{possession_on_file: pending}", "{possesion: pending}", "      steps: {possesion",
     "unknown step 'possesion' in steps"),
    ("test bad status", "{possession_on_file: pending}", "{possession_on_file: done}",
     "      steps: {possession", "bad value 'done'"),
    ("test unknown queue", "      escalate: none", "      escalate: legal", "      steps: {possession",
     "unknown escalate 'legal'"),
    ("test unknown level", "    level: low", "    level: lowest", "  - name: reset", "level 'lowest'"),
    ("test bad verification", "    level: low\n",
     "    level: low\n    verifications:\n"
     "      - {method: telepathy, minutes_ago: 1, expires_in_minutes: 1}\n",
     "      - {method: telepathy", "unknown method 'telepathy'"),
    ("yaml syntax", "    label: Verify photo ID", "    label: Verify: photo: ID", "    label: Verify: photo",
     "mapping values are not allowed here"),
]
# fmt: on


@pytest.mark.parametrize(("case", "old", "new", "anchor", "fragment"), LOADER_CASES, ids=[c[0] for c in LOADER_CASES])
def test_loader_rejects_with_file_and_line(
    tmp_path: Path, case: str, old: str, new: str, anchor: str, fragment: str
) -> None:
    assert BASE.count(old) == 1, case
    text = BASE.replace(old, new)
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_playbook(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line_of_text(text, anchor)}: "), message
    assert fragment in message


def test_base_is_valid_and_not_a_mapping_is_line_one(tmp_path: Path) -> None:
    assert load_playbook(write(tmp_path, BASE)).ref == "sample@1"
    path = write(tmp_path, "- just\n- a list\n")
    with pytest.raises(ConfigError, match=re.escape(f"{path}:1: playbook: expected a mapping")):
        load_playbook(path)


def test_load_playbooks_directory_rules(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no playbooks found"):
        load_playbooks(tmp_path)
    write(tmp_path, BASE)
    assert list(load_playbooks(tmp_path)) == ["sample"]
    copy = write(tmp_path, BASE, "copy.yaml")  # a second file cannot reuse an id: id must equal the stem
    with pytest.raises(ConfigError, match=re.escape(f"{copy}:1: playbook: id 'sample' must equal")):
        load_playbooks(tmp_path)
    copy.unlink()
    stray = write(tmp_path, BASE, "sample.yml")
    with pytest.raises(ConfigError, match=re.escape(f"{stray}:1: playbooks must be named *.yaml")):
        load_playbooks(tmp_path)
    with pytest.raises(ConfigError, match="not found"):
        load_playbooks(tmp_path / "missing")


def test_failing_inline_test_reports_file_line_expected_got(tmp_path: Path) -> None:
    text = BASE.replace("      escalate: none", "      escalate: security").replace(
        "{possession_on_file: pending}", "{possession_on_file: satisfied}"
    )
    path = write(tmp_path, text)
    failures = run_playbook_tests(load_playbook(path))
    prefix = f"{path}:{line_of_text(text, '  - name: reset')}: test 'reset': "
    assert failures == [
        prefix + "expected steps {possession_on_file: satisfied}, got {possession_on_file: pending}",
        prefix + "expected escalate 'security', got 'none'",
    ]


# --- apply_playbook ------------------------------------------------------------------------------


@pytest.fixture
def playbook(tmp_path: Path) -> Playbook:
    loaded = load_playbook(write(tmp_path, BEHAVIOUR, "behaviour.yaml"))
    assert run_playbook_tests(loaded) == []
    return loaded


def event(
    method: str,
    *,
    strength: int = 2,
    ago: timedelta = timedelta(minutes=5),
    left: timedelta = timedelta(minutes=5),
    id: str = "e1",
) -> VerificationEvent:
    return VerificationEvent(
        id=id, method=method, strength=strength, actor="agent-1", verified_at=NOW - ago, expires_at=NOW + left
    )


def run(
    playbook: Playbook,
    actions: list[str],
    level: str = "low",
    roles: tuple[str, ...] = (),
    events: tuple[VerificationEvent, ...] = (),
    contacts: bool = True,
) -> PlaybookResult:
    account = AccountOnFile(
        id="acct",
        roles=list(roles),
        emails=["a@example.com"] if contacts else [],
        phones=["+15555550100"] if contacts else [],
    )
    return apply_playbook(playbook, actions=actions, level=level, account=account, verifications=events, now=NOW)


@pytest.mark.parametrize(
    ("ago", "left", "status"),
    [
        (timedelta(minutes=5), timedelta(0), "pending"),  # expires exactly now: no longer valid
        (timedelta(minutes=5), timedelta(microseconds=1), "satisfied"),
        (timedelta(0), timedelta(minutes=5), "satisfied"),  # verified exactly now: valid
        (-timedelta(seconds=1), timedelta(minutes=5), "pending"),  # recorded in the future
        (timedelta(hours=2), -timedelta(hours=1), "pending"),
    ],
)
def test_expiry_boundary(playbook: Playbook, ago: timedelta, left: timedelta, status: str) -> None:
    result = run(playbook, ["password_reset"], events=(event("sms_code", ago=ago, left=left),))
    assert [(s.step, s.status) for s in result.required_steps] == [("code_any", status)]
    assert result.required_steps[0].satisfied_by == ("e1" if status == "satisfied" else None)


@pytest.mark.parametrize(
    ("method", "strength", "status"),
    [
        ("email_code", 2, "satisfied"),
        ("email_code", 1, "pending"),  # degraded event
        ("knowledge_check", 1, "pending"),  # too weak and not a listed method
        ("identity_document", 3, "pending"),  # strong, but not a method of this step
    ],
)
def test_strength_and_method(playbook: Playbook, method: str, strength: int, status: str) -> None:
    result = run(playbook, ["password_reset"], events=(event(method, strength=strength),))
    assert result.required_steps[0].status == status


def test_dedupe_order_and_why(playbook: Playbook) -> None:
    result = run(playbook, ["email_change", "password_reset"], level="high")
    assert [s.step for s in result.required_steps] == ["id_check", "code_any", "code_email"]
    why = {s.step: s.why for s in result.required_steps}
    assert why["code_any"] == "Resets hand over the account (requested: password reset, email change)."
    assert why["id_check"] == "High risk (requested: email change, password reset)."
    assert result.forbidden == ["Never use the ticket's contact", "Shared line"]
    assert result.rules_applied == ["reset", "contact", "high"]
    assert result.playbook == "behaviour@3"


def test_escalation_strongest_wins_in_declared_order(playbook: Playbook, tmp_path: Path) -> None:
    assert run(playbook, ["email_change"]).escalate == "team_lead"
    assert run(playbook, ["email_change"], level="high").escalate == "security"
    assert run(playbook, ["email_change", "admin_access"], level="high").escalate == "legal"
    reordered = BEHAVIOUR.replace("[none, team_lead, security, legal]", "[none, security, legal, team_lead]")
    (tmp_path / "reordered").mkdir()
    path = write(tmp_path / "reordered", reordered, "behaviour.yaml")
    assert run(load_playbook(path), ["email_change"], level="high").escalate == "team_lead"


def test_no_action_low_is_empty_and_critical_defaults(playbook: Playbook) -> None:
    quiet = run(playbook, [])
    assert (quiet.required_steps, quiet.forbidden, quiet.escalate, quiet.rules_applied) == (
        [],
        [],
        "none",
        [],
    )
    loud = run(playbook, [], level="critical")
    assert [(s.step, s.status) for s in loud.required_steps] == [("code_any", "pending")]
    assert loud.escalate == "security"
    assert "no specific request recognised" in loud.required_steps[0].why


def test_applies_when_and_role_case(playbook: Playbook) -> None:
    plain = run(playbook, ["admin_access"])
    assert [(s.step, s.status) for s in plain.required_steps] == [
        ("admin_check", "not_applicable"),
        ("session", "pending"),
    ]
    assert "has the role admin" in plain.required_steps[0].why
    admin = run(playbook, ["admin_access"], roles=("Admin",))
    assert admin.required_steps[0].status == "pending"


def test_no_contact_escalates_unless_satisfied(playbook: Playbook) -> None:
    bare = run(playbook, ["password_reset"], contacts=False)
    assert bare.escalate == "team_lead"
    assert "escalate to team_lead and never use contact details given in the ticket" in bare.required_steps[0].why
    unknown = apply_playbook(playbook, actions=["password_reset"], level="low", account=None, verifications=[], now=NOW)
    assert unknown.escalate == "team_lead"
    proven = run(playbook, ["password_reset"], contacts=False, events=(event("sms_code"),))
    assert (proven.escalate, proven.required_steps[0].status) == ("none", "satisfied")


def test_one_event_proves_one_step_and_matching_is_complete(playbook: Playbook) -> None:
    one = run(playbook, ["email_change"], events=(event("email_code"),))
    assert sorted(s.status for s in one.required_steps) == ["pending", "satisfied"]
    # The newest event suits both steps; the older one only code_any. Both steps must end up proven.
    both = run(
        playbook,
        ["email_change"],
        events=(
            event("email_code", ago=timedelta(minutes=1), id="new-email"),
            event("sms_code", ago=timedelta(minutes=3), id="old-sms"),
        ),
    )
    assert {s.step: s.satisfied_by for s in both.required_steps} == {
        "code_any": "old-sms",
        "code_email": "new-email",
    }


def test_a_standing_session_proves_every_step_it_fits(playbook: Playbook) -> None:
    session = event("authenticated_session", id="session")
    result = run(playbook, ["password_reset", "api_key_reset"], events=(session,))
    proven = {s.step: s.satisfied_by for s in result.required_steps}
    assert proven == {"code_any": "session", "session": "session"}


def test_unknown_inputs_are_errors(playbook: Playbook) -> None:
    with pytest.raises(ValueError, match="unknown action"):
        run(playbook, ["make_coffee"])
    with pytest.raises(ValueError, match="unknown level"):
        run(playbook, [], level="severe")
