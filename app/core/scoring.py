"""Combine detector hits into the assessment's score, level and explained signals.

Every point is carried by a signal: requested actions (tactic `sensitive_action`), detector hits
after diminishing returns within their tactic, and named combinations of tactics. The score is the
sum of their points, capped at 100.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from app.core.assessment import Evidence, RequestedAction, Signal
from app.core.vocabulary import ACTIONS, TACTICS, Level
from app.core.yamlsource import content_error, load_yaml
from app.errors import ConfigError
from detectors.protocol import ActionHit, Findings, Hit

SCORING_FILE = Path(__file__).resolve().parent.parent.parent / "detectors" / "scoring.yaml"
ACTION_LABELS = {
    "password_reset": "a password reset",
    "mfa_reset": "an MFA reset",
    "email_change": "an email change",
    "phone_change": "a phone number change",
    "account_recovery": "account recovery",
    "payout_change": "a payout or bank details change",
    "refund_redirect": "a refund to another instrument",
    "data_disclosure": "disclosure of account data",
    "account_deletion": "account deletion",
    "ownership_transfer": "an ownership transfer",
    "admin_access": "admin access",
    "sim_swap": "a SIM swap or port-out",
    "api_key_reset": "an API key reissue",
    "address_change": "an address change or redirect",
    "payment_request": "a payment or gift cards",
}


@dataclass(frozen=True, slots=True)
class Combination:
    id: str
    when_all: tuple[str, ...]
    when_any: tuple[str, ...]
    points: float
    explanation: str


@dataclass(frozen=True, slots=True)
class ScoringConfig:
    version: int
    floors: tuple[tuple[str, int], ...]  # (level, minimum score), highest first
    action_points: dict[str, float]
    diminishing: tuple[float, ...]
    quoted_factor: float
    combo_min_weight: float
    combinations: tuple[Combination, ...]
    path: Path

    def level_for(self, score: int) -> Level:
        return cast(Level, next((level for level, floor in self.floors if score >= floor), "low"))


def load_scoring(path: Path = SCORING_FILE) -> ScoringConfig:
    data = load_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("version"), int):
        raise ConfigError(f"{path}:1: scoring needs an integer 'version'")
    levels = data.get("levels", {})
    if set(levels) != {"medium", "high", "critical"} or not (
        0 < levels["medium"] < levels["high"] < levels["critical"] <= 100
    ):
        raise content_error(path, levels, "levels needs increasing medium < high < critical in 1..100")
    points = data.get("action_points", {})
    if set(points) != set(ACTIONS):
        raise content_error(path, points, f"action_points must list exactly {sorted(ACTIONS)}")
    combos = []
    for node in data.get("combinations", []):
        tactics = list(node.get("when_all", [])) + list(node.get("when_any", []))
        if not node.get("id") or not node.get("explanation") or not tactics:
            raise content_error(path, node, "a combination needs id, explanation and when_all/when_any")
        if unknown := [t for t in tactics if t not in TACTICS]:
            raise content_error(path, node, f"unknown tactics {unknown}")
        combos.append(
            Combination(
                str(node["id"]),
                tuple(node.get("when_all", [])),
                tuple(node.get("when_any", [])),
                float(node["points"]),
                str(node["explanation"]),
            )
        )
    floors = (*tuple(sorted(((lv, int(levels[lv])) for lv in levels), key=lambda x: -x[1])), ("low", 0))
    return ScoringConfig(
        version=data["version"],
        floors=floors,
        action_points={k: float(v) for k, v in points.items()},
        diminishing=tuple(float(x) for x in data.get("diminishing", [1.0])),
        quoted_factor=float(data.get("quoted_factor", 0.3)),
        combo_min_weight=float(data.get("combo_min_weight", 0)),
        combinations=tuple(combos),
        path=path,
    )


def merge_actions(hits: list[ActionHit]) -> list[RequestedAction]:
    best: dict[str, RequestedAction] = {}
    for hit in hits:
        current = best.get(hit.action)
        evidence = list(hit.evidence)
        if current is None:
            best[hit.action] = RequestedAction(
                action=hit.action, confidence=hit.confidence, rule=hit.rule, evidence=evidence
            )
        else:
            merged = (current.evidence + [e for e in evidence if e not in current.evidence])[:5]
            top = hit if hit.confidence > current.confidence else current
            best[hit.action] = RequestedAction(
                action=hit.action, confidence=max(hit.confidence, current.confidence), rule=top.rule, evidence=merged
            )
    return sorted(best.values(), key=lambda a: (-a.confidence, ACTIONS.index(a.action)))


def _signal(hit: Hit, points: float) -> Signal:
    return Signal(
        id=hit.id,
        detector=hit.detector,
        tactic=hit.tactic,
        weight=hit.weight,
        points=round(points, 2),
        explanation=hit.explanation,
        evidence=list(hit.evidence),
        rule_version=hit.rule_version,
        language=hit.language,
    )


def score(findings: Findings, config: ScoringConfig) -> tuple[int, Level, list[Signal], list[RequestedAction]]:
    actions = merge_actions(findings.actions)
    signals: list[Signal] = []
    by_action = sorted(actions, key=lambda a: -config.action_points[a.action])
    for rank, action in enumerate(by_action):
        weight = config.action_points[action.action]
        points = weight * action.confidence * (1.0 if rank == 0 else 0.5)
        signals.append(
            Signal(
                id=f"action.{action.action}",
                detector="actions",
                tactic="sensitive_action",
                weight=weight,
                points=round(points, 2),
                explanation=f"Asks for {ACTION_LABELS[action.action]}",
                evidence=list(action.evidence[:3]),
            )
        )
    grouped: dict[str, list[Hit]] = defaultdict(list)
    for hit in findings.hits:
        grouped[hit.tactic].append(hit)
    present = {"sensitive_action"} if actions else set()
    for tactic, hits in grouped.items():
        ranked = sorted(hits, key=lambda h: (h.shadow, h.quoted, -h.weight, h.id))
        rank = 0
        for hit in ranked:
            if hit.shadow:
                signals.append(_signal(hit, 0))
                continue
            factor = config.diminishing[rank] if rank < len(config.diminishing) else 0.0
            factor *= config.quoted_factor if hit.quoted else 1.0
            signals.append(_signal(hit, hit.weight * factor))
            rank += 1
            if not hit.quoted and hit.weight >= config.combo_min_weight:
                present.add(tactic)
    for combo in config.combinations:
        if set(combo.when_all) <= present and (not combo.when_any or present & set(combo.when_any)):
            signals.append(
                Signal(
                    id=combo.id,
                    detector="scoring",
                    tactic="combination",
                    weight=combo.points,
                    points=combo.points,
                    explanation=combo.explanation,
                    evidence=_combo_evidence(signals, combo),
                )
            )
    signals.sort(key=lambda s: (-s.points, s.id))
    total = round(max(0.0, min(100.0, sum(s.points for s in signals))))
    return total, config.level_for(total), signals, actions


def _combo_evidence(signals: list[Signal], combo: Combination) -> list[Evidence]:
    wanted = set(combo.when_all) | set(combo.when_any)
    out: list[Evidence] = []
    for s in signals:
        if s.tactic in wanted and s.evidence and s.evidence[0] not in out:
            out.append(s.evidence[0])
    return out[:3]
