"""The agent-facing banner, written from the signals (never from a separate template)."""

from __future__ import annotations

from app.core.assessment import Banner, RequiredStep, Signal
from app.core.vocabulary import Level

HEADLINE_MAX = 80
_LEVEL_WORD = {"low": "Low risk", "medium": "Medium risk", "high": "High risk", "critical": "Critical risk"}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip(" ,;:-") + "…"


def build_banner(level: Level, signals: list[Signal], steps: list[RequiredStep]) -> Banner:
    scored = [s for s in signals if s.points > 0]
    reasons = []
    for s in scored:
        if s.explanation not in reasons:
            reasons.append(s.explanation)
        if len(reasons) == 3:
            break
    pending = [s for s in steps if s.status == "pending"]
    if scored:
        lead = next((s for s in scored if s.tactic != "combination"), scored[0])
        headline = f"{_LEVEL_WORD[level]}: {lead.explanation}"
    elif pending:
        headline = f"{_LEVEL_WORD[level]}: verify before acting"
    else:
        headline = f"{_LEVEL_WORD[level]}: no social-engineering signals found"
    return Banner(level=level, headline=_clip(headline, HEADLINE_MAX), reasons=[_clip(r, 160) for r in reasons])
