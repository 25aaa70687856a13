"""Contact mismatch: who wrote in, and the contacts written in the ticket, against what is on file."""

from __future__ import annotations

import re

from app.core.entities import email_domain, normalize_email, normalize_phone, phones_match
from app.core.freemail import is_disposable, is_free_mail
from app.core.textnorm import clean_view, fold
from detectors.protocol import Analysis, Findings, Hit

NAME = "contact_mismatch"


def _hit(id_: str, weight: float, explanation: str, evidence=()) -> Hit:  # type: ignore[no-untyped-def]
    return Hit(
        id=id_,
        detector=NAME,
        tactic="contact_mismatch",
        weight=weight,
        explanation=explanation,
        evidence=tuple(evidence),
    )


class ContactMismatchDetector:
    name = NAME

    def detect(self, analysis: Analysis, prior: Findings) -> Findings:
        ticket, account = analysis.ticket, analysis.context.account
        out = Findings()
        requester_email = normalize_email(ticket.requester.email) if ticket.requester.email else ""
        on_file_emails = {normalize_email(e) for e in account.emails} if account else set()
        on_file_phones = list(account.phones) if account else []
        domain = email_domain(requester_email) if requester_email else ""

        if requester_email and on_file_emails and requester_email not in on_file_emails:
            out.hits.append(
                _hit(
                    "builtin.contact.requester_email_not_on_file",
                    20,
                    "Written from an email address that is not the one on file",
                )
            )
        requester_phone = normalize_phone(ticket.requester.phone) if ticket.requester.phone else ""
        if requester_phone and on_file_phones and not any(phones_match(requester_phone, p) for p in on_file_phones):
            out.hits.append(
                _hit(
                    "builtin.contact.requester_phone_not_on_file",
                    20,
                    "Contacted from a phone number that is not the one on file",
                )
            )
        if ticket.channel == "phone" and not requester_phone and on_file_phones:
            out.hits.append(
                _hit(
                    "builtin.contact.caller_unknown",
                    10,
                    "A caller whose number is withheld or unknown, so it cannot be matched to the file",
                )
            )
        if domain and is_disposable(domain):
            out.hits.append(_hit("builtin.contact.disposable_sender", 20, "Written from a disposable email service"))

        new_contacts = []
        for entity in analysis.entities:
            if analysis.text.in_quote(entity.start):
                continue
            if (entity.kind == "email" and entity.value not in on_file_emails and entity.value != requester_email) or (
                entity.kind == "phone" and not any(phones_match(entity.value, p) for p in on_file_phones)
            ):
                new_contacts.append(entity)
        if new_contacts and account is not None:
            # From the contact on file, a new address is usually the change itself; from anyone else it
            # is where an attacker wants codes and links to go.
            on_file_sender = ticket.requester.authenticated or (requester_email and requester_email in on_file_emails)
            out.hits.append(
                Hit(
                    id="builtin.contact.new_contact_in_text",
                    detector=NAME,
                    tactic="new_contact",
                    weight=5 if on_file_sender else 12,
                    explanation="Gives an email or phone in the ticket that is not on file",
                    evidence=tuple(analysis.evidence(e.start, e.end) for e in new_contacts[:5]),
                )
            )

        freemail_written = [e for e in new_contacts if e.kind == "email" and is_free_mail(email_domain(e.value))]
        if freemail_written and domain and not is_free_mail(domain):
            out.hits.append(
                Hit(
                    id="builtin.contact.freemail_reply_to",
                    detector=NAME,
                    tactic="channel_shift",
                    weight=15,
                    explanation="Points replies to a free-mail address instead of the sender's company address",
                    evidence=tuple(analysis.evidence(e.start, e.end) for e in freemail_written[:3]),
                )
            )

        if requester_email and requester_email in on_file_emails:
            own = _redirect_to_own_address(analysis, prior)
            if own is not None:
                out.hits.append(
                    Hit(
                        id="builtin.contact.code_to_sender_on_file",
                        detector=NAME,
                        tactic="mitigation",
                        weight=-own.weight,
                        explanation="The address the code would go to is the one on file the requester writes from",
                        evidence=own.evidence[:1],
                    )
                )

        staff_claim = [h for h in prior.hits if h.staff_claim and not h.quoted]
        if staff_claim and domain and is_free_mail(domain):
            out.hits.append(
                _hit(
                    "builtin.contact.freemail_claims_staff",
                    20,
                    "Claims a staff or executive role from a free-mail address",
                    staff_claim[0].evidence[:1],
                )
            )
        return out


_THIS_ADDRESS = re.compile(
    r"\b(this|my|the same) (e-?mail|email address|address|inbox)\b|\b(este|mi) correo\b|\b(cette|mon) adresse\b"
    r"|\b(diese|meine) (e-?mail-?)?adresse\b|\b(este|meu) (e-?mail|endereco)\b"
)


def _redirect_to_own_address(analysis: Analysis, prior: Findings) -> Hit | None:
    """A "send the code to this address" signal whose address is the sender's own, on file."""
    ticket = analysis.ticket
    for hit in prior.hits:
        if not hit.id.endswith(".dodging.redirect_code") or hit.quoted or not hit.evidence:
            continue
        ev = hit.evidence[0]
        source = ticket.subject if ev.field == "subject" else ticket.messages[ev.message or 0].body
        snippet = fold(clean_view(source[ev.start : ev.end + 25]).text)  # the words after "to this"
        if _THIS_ADDRESS.search(snippet) and not analysis.entities_in(ev.model_copy(update={"end": ev.end + 25})):
            return hit
    return None
