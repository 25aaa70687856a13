"""The ORM models, one concept per module. Importing this package registers every table on Base."""

from app.models.account import Account, AccountContact
from app.models.alert import Alert, UndoLink
from app.models.approval import ApprovalRequest
from app.models.assessment import Assessment
from app.models.audit import AuditEntry
from app.models.feedback import Feedback
from app.models.integration import Delivery, Integration, OutboxItem
from app.models.tenant import Tenant
from app.models.ticket import Ticket
from app.models.verification import VerificationEvent
from app.models.verification_challenge import VerificationChallenge

__all__ = [
    "Account",
    "AccountContact",
    "Alert",
    "ApprovalRequest",
    "Assessment",
    "AuditEntry",
    "Delivery",
    "Feedback",
    "Integration",
    "OutboxItem",
    "Tenant",
    "Ticket",
    "UndoLink",
    "VerificationChallenge",
    "VerificationEvent",
]
