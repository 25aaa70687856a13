"""The assessment engine: ticket + context snapshot -> assessment, through one path for every entry point.

Loading is fail-closed: rule packs, scoring and playbooks are validated here and any problem stops
start-up with a file:line message. `assess_many` runs spaCy once per ticket through `nlp.pipe`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.core.assessment import Assessment, Versions
from app.core.banner import build_banner
from app.core.context import Context
from app.core.entities import find_entities
from app.core.nlp import NlpEngine
from app.core.playbook import apply_playbook, load_playbooks
from app.core.playbook_schema import Playbook
from app.core.scoring import ScoringConfig, load_scoring, score
from app.core.textnorm import unleet
from app.core.ticket import Ticket
from app.core.tickettext import TicketText, build_ticket_text
from app.errors import ConfigError, NotFound
from detectors.account_context import AccountContextDetector
from detectors.claimed_name import ClaimedNameDetector
from detectors.contact_mismatch import ContactMismatchDetector
from detectors.lookalike_domain import LookalikeDomainDetector
from detectors.protocol import Analysis, Detector, Findings
from detectors.rule_detector import RuleDetector
from detectors.rulepack import PACK_DIR, RuleSet, content_hash, load_rules
from detectors.velocity import VelocityDetector
from playbooks import PLAYBOOK_DIR

ENGINE_VERSION = "1"


@dataclass(frozen=True, slots=True)
class Job:
    ticket: Ticket
    context: Context
    assessment_id: str


class Assessor:
    def __init__(
        self, ruleset: RuleSet, scoring: ScoringConfig, playbooks: dict[str, Playbook], nlp: NlpEngine | None
    ) -> None:
        self.ruleset = ruleset
        self.scoring = scoring
        self.playbooks = playbooks
        self.nlp = nlp
        # Rule packs first: the built-in detectors read what the rules found (e.g. a staff claim).
        self.detectors: tuple[Detector, ...] = (
            RuleDetector(ruleset),
            ContactMismatchDetector(),
            LookalikeDomainDetector(),
            ClaimedNameDetector(),
            VelocityDetector(),
            AccountContextDetector(),
        )
        self.pack_hash = content_hash(list(ruleset.files), [scoring.path])
        self.model_name = nlp.name if nlp else "none"

    @classmethod
    def load(
        cls,
        model: str | None,
        packs: Path = PACK_DIR,
        playbook_dir: Path = PLAYBOOK_DIR,
        scoring_file: Path | None = None,
    ) -> Assessor:
        ruleset = load_rules(packs)
        scoring = load_scoring(scoring_file) if scoring_file else load_scoring()
        playbooks = load_playbooks(playbook_dir)
        nlp = NlpEngine(model) if model else None
        return cls(ruleset, scoring, playbooks, nlp)

    def playbook(self, playbook_id: str) -> Playbook:
        try:
            return self.playbooks[playbook_id]
        except KeyError:
            raise NotFound(f"unknown playbook {playbook_id!r}", code="playbook_not_found") from None

    def assess(self, ticket: Ticket, context: Context, assessment_id: str) -> Assessment:
        return self.assess_many([Job(ticket, context, assessment_id)])[0]

    def assess_many(self, jobs: Sequence[Job]) -> list[Assessment]:
        texts = [build_ticket_text(job.ticket) for job in jobs]
        docs: Iterable[object] = self.nlp.pipe(t.text for t in texts) if self.nlp else (None for _ in texts)
        return [self._assess(job, text, doc) for job, text, doc in zip(jobs, texts, docs, strict=True)]

    def _assess(self, job: Job, text: TicketText, doc: object) -> Assessment:
        playbook = self.playbook(job.context.playbook)
        analysis = Analysis(
            ticket=job.ticket,
            text=text,
            doc=doc,  # type: ignore[arg-type]
            entities=tuple(find_entities(unleet(text.text))),
            context=job.context,
        )
        findings = Findings()
        for detector in self.detectors:
            findings.extend(detector.detect(analysis, findings))
        total, level, signals, actions = score(findings, self.scoring)
        result = apply_playbook(
            playbook,
            actions=[a.action for a in actions],
            level=level,
            account=job.context.account,
            verifications=job.context.verifications,
            now=job.context.now,
        )
        return Assessment(
            ticket_id=job.ticket.ticket_id,
            assessment_id=job.assessment_id,
            score=total,
            level=level,
            actions=actions,
            signals=signals,
            required_steps=result.required_steps,
            forbidden=result.forbidden,
            escalate=result.escalate,
            banner=build_banner(level, signals, result.required_steps),
            versions=Versions(
                rule_packs=self.pack_hash, playbook=result.playbook, model=self.model_name, engine=ENGINE_VERSION
            ),
        )


def reevaluate(assessor: Assessor, assessment: Assessment, context: Context) -> Assessment:
    """Recompute step statuses of a stored assessment against the current verification state."""
    playbook_id = assessment.versions.playbook.split("@", 1)[0]
    if playbook_id not in assessor.playbooks:
        raise ConfigError(f"the playbook {playbook_id!r} of assessment {assessment.assessment_id} is not loaded")
    result = apply_playbook(
        assessor.playbooks[playbook_id],
        actions=[a.action for a in assessment.actions],
        level=assessment.level,
        account=context.account,
        verifications=context.verifications,
        now=context.now,
    )
    return assessment.model_copy(
        update={
            "required_steps": result.required_steps,
            "banner": build_banner(assessment.level, assessment.signals, result.required_steps),
        }
    )
