"""The scenario library as a CI gate: it validates, covers the threat catalogue, and every scenario in
every language reaches its expected level through the production core."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from app.core.engine import Assessor
from app.core.vocabulary import level_rank
from app.errors import ConfigError
from app.evaluation.dataset import case_from
from app.evaluation.runner import score_cases
from app.scenarios.library import SCENARIO_DIR, export_cases, load_library, load_scenario

LIBRARY = load_library()
CASES = list(export_cases(LIBRARY))


def test_library_covers_every_threat_row_and_enough_benign_look_alikes() -> None:
    attacks = [s for s in LIBRARY if s.label == "attack"]
    benign = [s for s in LIBRARY if s.label == "benign"]
    assert len(attacks) >= 60 and len(benign) >= 60
    rows = Counter(s.threat for s in attacks)
    assert set(rows) >= set(range(1, 19)), sorted(set(range(1, 19)) - set(rows))
    assert min(rows[r] for r in range(1, 19)) >= 3
    assert sum(1 for s in attacks if s.variants) >= 15
    assert set(Counter(s.benign_kind for s in benign)) >= {"calm_request", "forwarded_phishing", "non_native_english"}


@pytest.fixture(scope="module")
def scored(assessor: Assessor) -> dict[str, tuple[str, int, str]]:
    cases = [case_from(c, c["id"]) for c in CASES]
    return {s.id: (s.level, s.score, " ".join(s.top_signals)) for s in score_cases(assessor, cases)}


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_scenario_reaches_its_expected_level(case: dict, scored: dict[str, tuple[str, int, str]]) -> None:
    level, score, signals = scored[case["id"]]
    if case["label"] == "attack":
        assert level_rank(level) >= level_rank(case["min_level"]), f"{level} ({score}) < {case['min_level']}: {signals}"
    else:
        assert level_rank(level) <= level_rank(case["max_level"]), f"{level} ({score}) > {case['max_level']}: {signals}"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("threat: 1\n", "", "threat"),
        ("label: attack", "label: benign", "benign_kind"),
        ("min_level: high", "min_level: severe", "expect.min_level"),
        ("  - >-\n    Hi, this is Dana", "  - 42\n  - >-\n    Hi, this is Dana", "messages.0"),
    ],
)
def test_a_broken_scenario_fails_with_file_and_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    source = SCENARIO_DIR / "atk-001-it-desk-board-meeting-mfa.yaml"
    text = source.read_text()
    assert old in text
    broken = tmp_path / source.name
    broken.write_text(text.replace(old, new, 1))
    with pytest.raises(ConfigError) as err:
        load_scenario(broken)
    assert err.value.message.startswith(f"{broken}:") and message in err.value.message
