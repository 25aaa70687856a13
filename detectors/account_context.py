"""Account context: who the account belongs to and how the helpdesk knows the requester.

A sensitive change on a privileged account (admins, owners, executives, finance) deserves more
care; a requester the helpdesk reports as signed in to the account has already proven possession.
"""

from __future__ import annotations

from detectors.protocol import Analysis, Findings, Hit

NAME = "account_context"
PRIVILEGED_ROLES = frozenset({
    "admin", "administrator", "super_admin", "superadmin", "global_admin", "domain_admin", "it_admin",
    "district_admin", "owner", "account_owner", "billing_owner", "executive", "finance", "payroll", "treasury",
})


class AccountContextDetector:
    name = NAME

    def detect(self, analysis: Analysis, prior: Findings) -> Findings:
        out = Findings()
        account = analysis.context.account
        roles = {r.strip().lower().replace("-", "_").replace(" ", "_") for r in account.roles} if account else set()
        privileged = sorted(roles & PRIVILEGED_ROLES)
        if privileged and prior.actions:
            out.hits.append(Hit(
                id="builtin.context.privileged_account", detector=NAME, tactic="scope_escalation", weight=10,
                explanation=f"A sensitive change on a privileged account ({', '.join(privileged)[:40]})",
            ))
        if analysis.ticket.requester.authenticated:
            out.hits.append(Hit(
                id="builtin.context.signed_in", detector=NAME, tactic="mitigation", weight=-15,
                explanation="The helpdesk says the requester is signed in to the account",
            ))
        return out
