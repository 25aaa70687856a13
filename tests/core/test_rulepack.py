"""Rule packs fail closed with file:line, and every shipped rule's inline examples pass."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from app.errors import ConfigError
from detectors.rule_tests import run_rule_tests
from detectors.rulepack import LANGUAGES, load_pack, load_rules

GOOD_RULE = """\
pack: test
language: en
version: 1
rules:
  - id: en.test.urgent
    version: 1
    kind: signal
    tactic: urgency
    weight: 10
    explanation: Pushes for speed right now
    phrases: [right now]
    tests:
      match: [do it right now]
      no_match: [no rush]
"""


def write(tmp_path: Path, text: str, lang: str = "en") -> Path:
    folder = tmp_path / lang
    folder.mkdir(exist_ok=True)
    path = folder / "test.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_shipped_packs_load_and_their_examples_pass() -> None:
    ruleset = load_rules()
    assert {r.language for r in ruleset.rules} == set(LANGUAGES)
    assert run_rule_tests(ruleset) == []


def test_a_good_pack_loads(tmp_path: Path) -> None:
    rules = load_pack(write(tmp_path, GOOD_RULE))
    assert [r.id for r in rules] == ["en.test.urgent"]


BROKEN = [
    # (replace this, with that, expected message part, expected line)
    ("tactic: urgency", "tactic: hurry", "unknown tactic", 5),
    ("weight: 10", "weight: 500", "weight must be", 5),
    ("kind: signal", "kind: banana", "kind must be", 5),
    ("id: en.test.urgent", "id: urgent", "must look like", 5),
    ("phrases: [right now]", "patterns: ['(a+)+b']", "quantified group", 5),
    ("phrases: [right now]", "patterns: ['urgent.*now']", "unbounded", 5),
    ("phrases: [right now]", "patterns: ['(unclosed']", "does not compile", 5),
    ("    phrases: [right now]\n", "    phrases: [right now]\n    colour: red\n", "unknown keys", 5),
    ("      match: [do it right now]\n", "", "tests.match", 5),
    ("version: 1\nrules", "version: 1\nlanguage: en\nrules", "duplicate key", 4),
    ("language: en", "language: xx", "language must be", 1),
]


@pytest.mark.parametrize(("old", "new", "message", "line"), BROKEN)
def test_broken_packs_fail_with_file_and_line(tmp_path: Path, old: str, new: str, message: str, line: int) -> None:
    assert old in GOOD_RULE
    path = write(tmp_path, GOOD_RULE.replace(old, new, 1))
    with pytest.raises(ConfigError) as err:
        load_pack(path)
    assert err.value.message.startswith(f"{path}:{line}:"), err.value.message
    assert message in err.value.message


def test_failing_inline_example_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_RULE.replace("no_match: [no rush]", "no_match:\n        - do it right now"))
    ruleset = load_rules(tmp_path)
    failures = run_rule_tests(ruleset)
    assert failures == [f"{path}:15: en.test.urgent: should not match but does: 'do it right now'"]


def test_duplicate_ids_across_packs_are_refused(tmp_path: Path) -> None:
    write(tmp_path, GOOD_RULE)
    other = tmp_path / "en" / "other.yaml"
    other.write_text(GOOD_RULE)
    with pytest.raises(ConfigError, match=r"duplicate rule id en\.test\.urgent"):
        load_rules(tmp_path)


def test_content_hash_changes_with_content(tmp_path: Path) -> None:
    write(tmp_path, GOOD_RULE)
    before = load_rules(tmp_path).content_hash
    write(tmp_path, GOOD_RULE.replace("weight: 10", "weight: 11"))
    assert load_rules(tmp_path).content_hash != before


@pytest.mark.parametrize("evasion", ["rіght now", "righ\u200bt now", "RIGHT NOW", "r1ght n0w"])
def test_phrases_match_through_evasion(tmp_path: Path, evasion: str) -> None:
    from detectors.rule_detector import rule_matches
    from detectors.rule_tests import example_text

    (rule,) = load_pack(write(tmp_path, GOOD_RULE))
    assert list(rule_matches(rule, example_text(f"please do it {evasion}")))
