"""The evasion suite and the fairness audit: counterfactual variants scored through the same core."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from app.core.engine import Assessor
from app.evaluation import metrics
from app.evaluation.dataset import Case
from app.evaluation.runner import score_cases
from app.evaluation.transforms import EVASIONS, NAMES, non_native, rewrite_messages, swap_name

EVASION_TOLERANCE = 5


def evasion_suite(assessor: Assessor, cases: Sequence[Case]) -> dict[str, Any]:
    """Every attack re-scored after each obfuscation; the score change against its plain text."""
    attacks = [c for c in cases if c.label == "attack"]
    plain = {s.id: s for s in score_cases(assessor, attacks)}
    out: dict[str, Any] = {}
    for name, rewrite in EVASIONS.items():
        variants = [replace(c, ticket=rewrite_messages(c.ticket, rewrite)) for c in attacks]
        deltas = []
        for s in score_cases(assessor, variants):
            deltas.append((s.score - plain[s.id].score, s.id, s.level != plain[s.id].level))
        worst = sorted(deltas, key=lambda d: -abs(d[0]))[:5]
        out[name] = {
            "cases": len(deltas),
            "within_tolerance": sum(abs(d) <= EVASION_TOLERANCE for d, _, _ in deltas),
            "mean_abs_change": round(sum(abs(d) for d, _, _ in deltas) / max(1, len(deltas)), 2),
            "max_abs_change": max((abs(d) for d, _, _ in deltas), default=0),
            "level_changes": sum(changed for _, _, changed in deltas),
            "worst": [{"id": i, "change": d} for d, i, _ in worst if d],
        }
    return out


def _level_changes(
    base: dict[str, metrics.Scored], variants: Sequence[metrics.Scored], origin: dict[str, str]
) -> list[dict[str, Any]]:
    return [
        {"id": origin[v.id], "variant": v.id, "from": base[origin[v.id]].level, "to": v.level}
        for v in variants
        if v.level != base[origin[v.id]].level
    ]


def fairness_audit(assessor: Assessor, cases: Sequence[Case]) -> dict[str, Any]:
    base = {s.id: s for s in score_cases(assessor, cases)}
    swapped: list[Case] = []
    origin: dict[str, str] = {}
    for case in cases:
        for index, (name, slug) in enumerate(NAMES):
            ticket = swap_name(case.ticket, name, slug)
            if ticket is not None:
                vid = f"{case.id}~name{index}"
                origin[vid] = case.id
                swapped.append(replace(case, id=vid, ticket=ticket, group=name))
    name_scores = score_cases(assessor, swapped)
    by_name: dict[str, list[metrics.Scored]] = defaultdict(list)
    for s in name_scores:
        by_name[s.group].append(s)

    english = [c for c in cases if c.language == "en"]
    rewritten = [replace(c, id=f"{c.id}~nonnative", ticket=rewrite_messages(c.ticket, non_native)) for c in english]
    origin.update({f"{c.id}~nonnative": c.id for c in english})
    nn_scores = score_cases(assessor, rewritten)

    by_language = metrics.breakdown(list(base.values()), lambda s: s.language)
    english_row = by_language.get("en", {})
    language_gaps = {}
    for lang, row in by_language.items():
        if lang == "en":
            continue
        language_gaps[lang] = {
            "fpr_gap_points": _gap(row.get("fpr_high"), english_row.get("fpr_high")),
            "recall_gap_points": _gap(row.get("recall_high"), english_row.get("recall_high")),
        }
    return {
        "name_swap": {
            "comparisons": len(name_scores),
            "level_changes": _level_changes(base, name_scores, origin),
            "by_name": {
                k: {"fpr_high": metrics.false_positive_rate(v), "recall_high": metrics.recall(v)}
                for k, v in sorted(by_name.items())
            },
        },
        "non_native_english": {
            "comparisons": len(nn_scores),
            "level_changes": _level_changes(base, nn_scores, origin),
            "fpr_native": metrics.false_positive_rate([base[c.id] for c in english]),
            "fpr_non_native": metrics.false_positive_rate(nn_scores),
            "recall_native": metrics.recall([base[c.id] for c in english]),
            "recall_non_native": metrics.recall(nn_scores),
        },
        "by_language": by_language,
        "language_gaps": language_gaps,
    }


def _gap(value: Any, reference: Any) -> float | None:
    if value is None or reference is None:
        return None
    return round(100 * (value - reference), 2)
