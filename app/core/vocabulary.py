"""The product's vocabulary (see DESIGN.md): one name per concept, used in code, API, YAML and docs."""

from __future__ import annotations

from typing import Literal, get_args

Action = Literal[
    "password_reset",
    "mfa_reset",
    "email_change",
    "phone_change",
    "account_recovery",
    "payout_change",
    "refund_redirect",
    "data_disclosure",
    "account_deletion",
    "ownership_transfer",
    "admin_access",
    "sim_swap",
    "api_key_reset",
    "address_change",
    "payment_request",
]
ACTIONS: tuple[str, ...] = get_args(Action)

Level = Literal["low", "medium", "high", "critical"]
LEVELS: tuple[str, ...] = get_args(Level)

StepStatus = Literal["pending", "satisfied", "not_applicable"]

Channel = Literal["email", "chat", "web", "phone", "api", "social"]
Author = Literal["requester", "agent", "system"]

FeedbackLabel = Literal["attack", "legitimate", "unsure"]

Tactic = Literal[
    "sensitive_action",
    "urgency",
    "authority",
    "secrecy",
    "threat",
    "flattery",
    "verification_bypass",
    "channel_shift",
    "payment_instrument",
    "scope_escalation",
    "contact_mismatch",
    "new_contact",
    "claimed_identity",
    "lookalike_domain",
    "velocity",
    "combination",
    "mitigation",
]
TACTICS: tuple[str, ...] = get_args(Tactic)

# Verification methods and the strength of one successful event of each (DESIGN.md, "step strength").
VerificationMethod = Literal[
    "knowledge_check",
    "email_code",
    "sms_code",
    "callback",
    "authenticated_session",
    "identity_document",
    "manager_approval",
    "in_person",
    "cooling_off",
]
VERIFICATION_METHODS: tuple[str, ...] = get_args(VerificationMethod)
METHOD_STRENGTH: dict[str, int] = {
    "knowledge_check": 1,
    "email_code": 2,
    "sms_code": 2,
    "callback": 2,
    "authenticated_session": 2,
    "cooling_off": 2,
    "identity_document": 3,
    "manager_approval": 3,
    "in_person": 3,
}

def level_rank(level: str) -> int:
    return LEVELS.index(level)
