"""Detection metrics over scored cases: recall, false-positive rate, ROC AUC, per-action precision/recall."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from app.core.vocabulary import level_rank

FLAG_LEVEL = "high"  # "flagged" means high or critical


@dataclass(frozen=True, slots=True)
class Scored:
    id: str
    label: str
    score: int
    level: str
    language: str
    group: str
    expected_actions: tuple[str, ...] | None
    actions: tuple[str, ...]
    top_signals: tuple[str, ...]


def flagged(s: Scored) -> bool:
    return level_rank(s.level) >= level_rank(FLAG_LEVEL)


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def recall(items: Sequence[Scored]) -> float | None:
    attacks = [s for s in items if s.label == "attack"]
    return _ratio(sum(flagged(s) for s in attacks), len(attacks))


def false_positive_rate(items: Sequence[Scored]) -> float | None:
    benign = [s for s in items if s.label == "benign"]
    return _ratio(sum(flagged(s) for s in benign), len(benign))


def roc_auc(items: Sequence[Scored]) -> float | None:
    """Probability that a random attack outscores a random benign case (ties count half)."""
    pos = sorted(s.score for s in items if s.label == "attack")
    neg = sorted(s.score for s in items if s.label == "benign")
    if not pos or not neg:
        return None
    wins = 0.0
    for p in pos:
        below = sum(1 for n in neg if n < p)
        ties = sum(1 for n in neg if n == p)
        wins += below + ties / 2
    return wins / (len(pos) * len(neg))


def roc_curve(items: Sequence[Scored]) -> list[tuple[float, float, int]]:
    """(false-positive rate, true-positive rate, threshold) for every score threshold."""
    pos = [s.score for s in items if s.label == "attack"]
    neg = [s.score for s in items if s.label == "benign"]
    if not pos or not neg:
        return []
    points = [(1.0, 1.0, 0)]
    for t in sorted({s.score for s in items} | {101}):
        points.append((sum(n >= t for n in neg) / len(neg), sum(p >= t for p in pos) / len(pos), t))
    return sorted(points)


def action_scores(items: Sequence[Scored]) -> dict[str, dict[str, float | int | None]]:
    """Per action: precision and recall over the cases labelled with expected actions."""
    tp: dict[str, int] = defaultdict(int)
    fp: dict[str, int] = defaultdict(int)
    fn: dict[str, int] = defaultdict(int)
    for s in items:
        if s.expected_actions is None:
            continue
        expected, got = set(s.expected_actions), set(s.actions)
        for a in got & expected:
            tp[a] += 1
        for a in got - expected:
            fp[a] += 1
        for a in expected - got:
            fn[a] += 1
    out: dict[str, dict[str, float | int | None]] = {}
    for a in sorted(set(tp) | set(fp) | set(fn)):
        out[a] = {
            "precision": _ratio(tp[a], tp[a] + fp[a]),
            "recall": _ratio(tp[a], tp[a] + fn[a]),
            "support": tp[a] + fn[a],
        }
    return out


def action_recall(items: Sequence[Scored]) -> float | None:
    """Share of expected actions that were recognised, over all labelled cases."""
    hit = total = 0
    for s in items:
        if s.expected_actions:
            total += len(s.expected_actions)
            hit += len(set(s.expected_actions) & set(s.actions))
    return _ratio(hit, total)


def summary(items: Sequence[Scored]) -> dict[str, float | int | None]:
    return {
        "cases": len(items),
        "attacks": sum(s.label == "attack" for s in items),
        "benign": sum(s.label == "benign" for s in items),
        "recall_high": recall(items),
        "fpr_high": false_positive_rate(items),
        "roc_auc": roc_auc(items),
        "action_recall": action_recall(items),
    }


def breakdown(items: Iterable[Scored], key: Callable[[Scored], str]) -> dict[str, dict[str, float | int | None]]:
    groups: dict[str, list[Scored]] = defaultdict(list)
    for s in items:
        groups[key(s) or "-"].append(s)
    return {k: summary(v) for k, v in sorted(groups.items())}


def confusion_by_level(items: Sequence[Scored]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {"attack": defaultdict(int), "benign": defaultdict(int)}  # type: ignore[dict-item]
    for s in items:
        out[s.label][s.level] += 1
    return {k: dict(v) for k, v in out.items()}


def worst_misses(items: Sequence[Scored], n: int = 10) -> list[Scored]:
    """Attacks scored lowest and benign cases scored highest, among those on the wrong side."""
    missed = sorted((s for s in items if s.label == "attack" and not flagged(s)), key=lambda s: s.score)
    false_alarms = sorted((s for s in items if s.label == "benign" and flagged(s)), key=lambda s: -s.score)
    return missed[:n] + false_alarms[:n]
