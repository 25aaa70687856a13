"""CI gates of the evasion suite and the fairness audit, over the English scenario library."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.core.engine import Assessor
from app.evaluation.audits import EVASION_TOLERANCE
from app.evaluation.dataset import Case, case_from
from app.evaluation.metrics import Scored
from app.evaluation.runner import score_cases
from app.evaluation.transforms import EVASIONS, NAMES, rewrite_messages, swap_name
from app.scenarios.library import export_cases, load_library

ENGLISH = [case_from(c, c["id"]) for c in export_cases(load_library()) if c["language"] == "en"]
ATTACKS = [c for c in ENGLISH if c.label == "attack"]


@pytest.fixture(scope="module")
def plain(assessor: Assessor) -> dict[str, Scored]:
    return {s.id: s for s in score_cases(assessor, ENGLISH)}


@pytest.mark.parametrize("evasion", sorted(EVASIONS))
def test_obfuscated_attacks_score_within_tolerance(evasion: str, assessor: Assessor, plain: dict[str, Scored]) -> None:
    variants = [replace(c, ticket=rewrite_messages(c.ticket, EVASIONS[evasion])) for c in ATTACKS]
    changed = {v.id: v.score - plain[v.id].score for v in score_cases(assessor, variants)}
    assert any(c.ticket != v.ticket for c, v in zip(ATTACKS, variants, strict=True))  # the rewrite did something
    too_far = {k: d for k, d in changed.items() if abs(d) > EVASION_TOLERANCE}
    assert not too_far, too_far


# A spread of scripts and cultures; the full list runs in `deskguard eval --fairness`.
SAMPLE_NAMES = [NAMES[i] for i in (1, 2, 3, 5, 6, 9)]


@pytest.mark.parametrize(("name", "slug"), SAMPLE_NAMES, ids=[slug for _, slug in SAMPLE_NAMES])
def test_swapping_the_name_never_changes_the_level(
    name: str, slug: str, assessor: Assessor, plain: dict[str, Scored]
) -> None:
    swapped: list[Case] = []
    for case in ENGLISH:
        ticket = swap_name(case.ticket, name, slug)
        if ticket is not None:
            swapped.append(replace(case, ticket=ticket))
    assert len(swapped) > len(ENGLISH) // 2
    assert any(name in (c.ticket.account.name if c.ticket.account else "") for c in swapped)
    changes = {
        s.id: (plain[s.id].level, s.level) for s in score_cases(assessor, swapped) if s.level != plain[s.id].level
    }
    assert not changes, changes
