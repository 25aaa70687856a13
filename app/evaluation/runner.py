"""Score labelled cases through the production core (the same Assessor, batched through nlp.pipe)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from app.assessments.context import offline_context
from app.core.assessment import Assessment
from app.core.engine import Assessor, Job
from app.evaluation.dataset import Case
from app.evaluation.metrics import Scored

# Cases are scored against a fixed clock so a run is reproducible.
EVAL_NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
BATCH = 64


def assess_cases(assessor: Assessor, cases: Sequence[Case]) -> list[Assessment]:
    out: list[Assessment] = []
    for i in range(0, len(cases), BATCH):
        chunk = cases[i : i + BATCH]
        jobs = [
            Job(c.ticket, offline_context(c.ticket, EVAL_NOW, c.playbook, c.tenant_domains), f"eval-{c.id}")
            for c in chunk
        ]
        out.extend(assessor.assess_many(jobs))
    return out


def scored(case: Case, assessment: Assessment) -> Scored:
    return Scored(
        id=case.id,
        label=case.label,
        score=assessment.score,
        level=assessment.level,
        language=case.language,
        group=case.group,
        expected_actions=case.expect_actions,
        actions=tuple(a.action for a in assessment.actions),
        top_signals=tuple(f"{s.id}({s.points:g})" for s in assessment.signals if s.points > 0)[:6],
    )


def score_cases(assessor: Assessor, cases: Sequence[Case]) -> list[Scored]:
    return [scored(c, a) for c, a in zip(cases, assess_cases(assessor, cases), strict=True)]
