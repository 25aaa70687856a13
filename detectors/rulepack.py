"""Rule packs: reviewed YAML that the security team edits, validated at load (fail closed).

A pack holds rules of two kinds: `signal` rules (a tactic with a weight and an agent-facing
explanation) and `action` rules (a requested account action with a confidence). A rule matches
literal `phrases` and/or regex `patterns` over the folded ticket text (lower case, accents stripped,
leetspeak folded), and carries inline `tests.match` / `tests.no_match` examples.

Regexes are restricted so that matching time stays linear in the text: no unbounded `.*`/`.+`, no
quantified groups, no back-references or look-behinds. `i` and `l` are interchangeable in every
pattern (leetspeak `1` folds to `l`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.vocabulary import ACTIONS, TACTICS
from app.core.yamlsource import content_error, line_of, load_yaml
from app.errors import ConfigError

PACK_DIR = Path(__file__).resolve().parent / "packs"
STATUSES = ("experimental", "test", "stable", "deprecated")
LANGUAGES = ("en", "es", "fr", "de", "pt")
_PACK_KEYS = {"pack", "language", "version", "description", "rules"}
_RULE_KEYS = {
    "id",
    "version",
    "status",
    "kind",
    "tactic",
    "action",
    "weight",
    "confidence",
    "explanation",
    "phrases",
    "patterns",
    "unless",
    "tests",
    "false_positives",
    "references",
    "staff_claim",
}
_ID = re.compile(r"^[a-z]{2}\.[a-z0-9_]+\.[a-z0-9_]+$")
# Constructs that can make a backtracking regex super-linear, or read outside the match.
_UNSAFE = (
    (re.compile(r"(?<!\\)\.[*+]"), "unbounded '.*' or '.+' (use '.{0,N}')"),
    (re.compile(r"\)[*+]|\)\{\d*,\}"), "a quantified group"),
    (re.compile(r"\\[1-9]|\(\?P="), "a back-reference"),
    (re.compile(r"\(\?<[=!]"), "a look-behind"),
    (re.compile(r"\{\d*,(\d{4,}|[3-9]\d\d)\}"), "a repetition bound over 299"),
)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    version: int
    status: str
    kind: str  # signal | action
    language: str
    pack: str
    tactic: str
    action: str
    weight: float
    confidence: float
    explanation: str
    regex: re.Pattern[str]
    unless: re.Pattern[str] | None
    staff_claim: bool
    tests_match: tuple[tuple[str, int], ...]  # (text, line)
    tests_no_match: tuple[tuple[str, int], ...]
    source: str  # file:line


@dataclass(frozen=True, slots=True)
class RuleSet:
    rules: tuple[Rule, ...]
    content_hash: str
    files: tuple[Path, ...] = field(default=())


def _expand_il(pattern: str) -> str:
    """Make `i` and `l` interchangeable in literal positions of a regex."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            out.append(ch + ("li" if ch in "il" else ""))
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            out.append(ch)
        elif ch in "il":
            out.append("[il]")
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def fold_phrase(phrase: str) -> str:
    from app.core.textnorm import clean_view, fold

    return fold(clean_view(phrase.strip()).text)


def phrase_regex(phrase: str) -> str:
    words = fold_phrase(phrase).split()
    body = r"\s+".join(_expand_il(re.escape(w)) for w in words)
    return rf"(?<![\w]){body}(?![\w])"


def _strings(path: Path, node: Any, key: str) -> list[str]:
    value = node.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise content_error(path, node, f"'{key}' must be a list of non-empty strings")
    return list(value)


def _compile(path: Path, node: Any, sources: list[str], what: str, generated: tuple[str, ...] = ()) -> re.Pattern[str]:
    """Compile authored `sources` (checked for unsafe constructs) with already-safe `generated` ones."""
    for src in sources:
        for unsafe, why in _UNSAFE:
            if unsafe.search(src):
                raise content_error(path, node, f"{what} pattern {src!r} uses {why}")
    try:
        return re.compile("|".join([f"(?:{_expand_il(s)})" for s in sources] + [f"(?:{g})" for g in generated]))
    except re.error as exc:
        raise content_error(path, node, f"{what} pattern does not compile: {exc}") from exc


def _tests(path: Path, node: Any) -> tuple[tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]]:
    tests = node.get("tests")
    if not isinstance(tests, dict) or not tests.get("match"):
        raise content_error(path, node, "every rule needs tests.match with at least one example")
    extra = set(tests) - {"match", "no_match"}
    if extra:
        raise content_error(path, tests, f"unknown keys in tests: {sorted(extra)}")
    out = []
    for key in ("match", "no_match"):
        items = tests.get(key) or []
        if not isinstance(items, list) or not all(isinstance(t, str) for t in items):
            raise content_error(path, tests, f"tests.{key} must be a list of strings")
        out.append(tuple((str(t), line_of(t, line_of(tests))) for t in items))
    return out[0], out[1]


def _rule(path: Path, pack: str, language: str, node: Any) -> Rule:
    if not isinstance(node, dict):
        raise content_error(path, node, "a rule must be a mapping")
    unknown = set(node) - _RULE_KEYS
    if unknown:
        raise content_error(path, node, f"unknown keys {sorted(unknown)}")
    rid = node.get("id")
    if not isinstance(rid, str) or not _ID.match(rid) or not rid.startswith(language + "."):
        raise content_error(path, node, f"rule id {rid!r} must look like '{language}.<group>.<name>'")
    kind = node.get("kind")
    status = node.get("status", "stable")
    version = node.get("version")
    if kind not in ("signal", "action"):
        raise content_error(path, node, f"{rid}: kind must be 'signal' or 'action'")
    if status not in STATUSES:
        raise content_error(path, node, f"{rid}: status must be one of {STATUSES}")
    if not isinstance(version, int) or version < 1:
        raise content_error(path, node, f"{rid}: version must be a positive integer")
    tactic, action = node.get("tactic", ""), node.get("action", "")
    weight, confidence = node.get("weight", 0), node.get("confidence", 0)
    if kind == "signal":
        if tactic not in TACTICS or tactic in ("sensitive_action", "combination", "mitigation"):
            raise content_error(path, node, f"{rid}: unknown tactic {tactic!r}")
        if not isinstance(weight, int | float) or not 0 < weight <= 60:
            raise content_error(path, node, f"{rid}: weight must be a number in (0, 60]")
        if not isinstance(node.get("explanation"), str) or not 10 <= len(node["explanation"]) <= 120:
            raise content_error(path, node, f"{rid}: explanation must be one line of 10-120 characters")
    else:
        if action not in ACTIONS:
            raise content_error(path, node, f"{rid}: unknown action {action!r}")
        if not isinstance(confidence, int | float) or not 0 < confidence <= 1:
            raise content_error(path, node, f"{rid}: confidence must be in (0, 1]")
    phrases, patterns = _strings(path, node, "phrases"), _strings(path, node, "patterns")
    if not phrases and not patterns:
        raise content_error(path, node, f"{rid}: needs phrases or patterns")
    regex = _compile(path, node, patterns, rid, tuple(phrase_regex(p) for p in phrases))
    unless_src = _strings(path, node, "unless")
    unless = _compile(path, node, unless_src, f"{rid} unless") if unless_src else None
    tests_match, tests_no_match = _tests(path, node)
    return Rule(
        id=rid,
        version=version,
        status=status,
        kind=kind,
        language=language,
        pack=pack,
        tactic=tactic if kind == "signal" else "sensitive_action",
        action=action,
        weight=float(weight),
        confidence=float(confidence),
        explanation=node.get("explanation", ""),
        regex=regex,
        unless=unless,
        staff_claim=bool(node.get("staff_claim", False)),
        tests_match=tests_match,
        tests_no_match=tests_no_match,
        source=f"{path}:{line_of(node)}",
    )


def load_pack(path: Path) -> list[Rule]:
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: a rule pack must be a mapping")
    unknown = set(data) - _PACK_KEYS
    if unknown:
        raise content_error(path, data, f"unknown pack keys {sorted(unknown)}")
    language, pack = data.get("language"), data.get("pack")
    if language not in LANGUAGES:
        raise content_error(path, data, f"language must be one of {LANGUAGES}")
    if not isinstance(pack, str) or not pack or not isinstance(data.get("version"), int):
        raise content_error(path, data, "a pack needs 'pack' (name) and 'version' (integer)")
    rules = data.get("rules")
    if not isinstance(rules, list) or not rules:
        raise content_error(path, data, "a pack needs a non-empty 'rules' list")
    return [_rule(path, pack, language, node) for node in rules]


def pack_files(directory: Path = PACK_DIR) -> list[Path]:
    return sorted(directory.glob("*/*.yaml"))


def content_hash(files: list[Path], extra: list[Path] | None = None) -> str:
    digest = hashlib.sha256()
    for path in sorted(files) + sorted(extra or []):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def load_rules(directory: Path = PACK_DIR) -> RuleSet:
    files = pack_files(directory)
    if not files:
        raise ConfigError(f"{directory}: no rule packs found")
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path in files:
        for rule in load_pack(path):
            if rule.id in seen:
                raise ConfigError(f"{rule.source}: duplicate rule id {rule.id} (first at {seen[rule.id]})")
            seen[rule.id] = rule.source
            rules.append(rule)
    return RuleSet(rules=tuple(rules), content_hash=content_hash(files), files=tuple(files))
