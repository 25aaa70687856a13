"""Repositories for tenants, accounts, verification events and the audit trail, on real databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import repository as accounts
from app.audit import repository as audit
from app.core.ticket import AccountOnFile, RecentChange
from app.core.vocabulary import METHOD_STRENGTH
from app.errors import InvalidInput, NotFound
from app.models import AccountContact
from app.tenants import repository as tenants

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


# --- tenants -------------------------------------------------------------------------------------


def test_ensure_tenant_creates_then_updates_only_what_is_given(session: Session) -> None:
    created = tenants.ensure_tenant(session, "initech", domains=[" Initech.Example. ", "initech.example"])
    assert (created.name, created.domains, created.playbook) == ("initech", ["initech.example"], "consumer")

    again = tenants.ensure_tenant(session, "initech", playbook="workforce")

    assert again is created
    assert (again.name, again.domains, again.playbook) == ("initech", ["initech.example"], "workforce")
    assert [t.id for t in tenants.list_tenants(session)] == ["initech"]
    assert tenants.get_tenant(session, "nobody") is None


@pytest.mark.parametrize("bad", ["", "Acme", "acme corp", "-acme", "acme/../x", "a" * 101])
def test_tenant_ids_must_be_slugs(session: Session, bad: str) -> None:
    with pytest.raises(InvalidInput):
        tenants.ensure_tenant(session, bad)


# --- accounts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [(" Alice@Example.COM ", "alice@example.com"), ("bob@example.com", "bob@example.com"), ("  ", "")],
)
def test_normalize_email(raw: str, normalized: str) -> None:
    assert accounts.normalize_email(raw) == normalized


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("+1 (555) 010-0000", "+15550100000"),
        ("555.010.0000", "5550100000"),
        (" +44 20 7946 0000 ", "+442079460000"),
        ("tel: +", ""),
    ],
)
def test_normalize_phone(raw: str, normalized: str) -> None:
    assert accounts.normalize_phone(raw) == normalized


def test_upsert_account_replaces_contacts(session: Session, two_tenants: tuple[str, str]) -> None:
    acme, _ = two_tenants
    first = accounts.upsert_account(
        session,
        acme,
        "A-1",
        "Alice",
        emails=["alice@old.example", "Shared@Example.com"],
        phones=["+1 555 010 0000"],
        roles=["owner"],
    )
    first_pk = first.id

    second = accounts.upsert_account(
        session,
        acme,
        "A-1",
        "Alice B.",
        emails=["shared@example.com", "alice@new.example"],
        phones=[],
        roles=["owner", "billing"],
        recent_changes=[RecentChange(kind="email_change", at=NOW, detail="by support")],
    )

    assert second.id == first_pk
    session.expire_all()
    rows = session.execute(
        select(AccountContact.kind, AccountContact.value).where(AccountContact.account_pk == first_pk)
    ).all()
    assert sorted(rows) == [("email", "alice@new.example"), ("email", "shared@example.com")]
    on_file = accounts.account_on_file(accounts.get_account(session, acme, "A-1"))  # type: ignore[arg-type]
    assert on_file == AccountOnFile(
        id="A-1",
        name="Alice B.",
        emails=["shared@example.com", "alice@new.example"],  # in the order given
        phones=[],
        roles=["owner", "billing"],
        recent_changes=[RecentChange(kind="email_change", at=NOW, detail="by support")],
    )


@pytest.mark.parametrize(
    ("lookup", "expected"),
    [
        ({"external_id": "A-1"}, "A-1"),
        ({"email": "  ALICE@acme.example "}, "A-1"),
        ({"phone": "+1 (555) 010-0001"}, "A-2"),
        ({"external_id": "A-2", "email": "alice@acme.example"}, "A-2"),  # the id comes first
        ({"external_id": "missing", "email": "alice@acme.example"}, "A-1"),  # then the email
        ({"email": "nobody@acme.example", "phone": "+15550100001"}, "A-2"),  # then the phone
        ({"email": "carol@globex.example"}, None),  # another tenant's contact
        ({"external_id": "G-1"}, None),  # another tenant's account
        ({"phone": "5550100001"}, None),  # no "+": a different normalized number
        ({}, None),
    ],
)
def test_find_account_by_contact(
    session: Session, two_tenants: tuple[str, str], lookup: dict[str, str], expected: str | None
) -> None:
    acme, globex = two_tenants
    accounts.upsert_account(session, acme, "A-1", "Alice", emails=["alice@acme.example"])
    accounts.upsert_account(session, acme, "A-2", "Bob", phones=["+1 555 010 0001"])
    accounts.upsert_account(session, globex, "G-1", "Carol", emails=["carol@globex.example"])

    found = accounts.find_account_by_contact(session, acme, **lookup)

    assert (found.external_id if found else None) == expected
    if found is not None:
        assert found.tenant_id == acme
        accounts.account_on_file(found)  # contacts are loaded: lazy="raise" would fail here


def test_same_external_id_in_two_tenants_are_two_accounts(
    session: Session, two_tenants: tuple[str, str]
) -> None:
    acme, globex = two_tenants
    a = accounts.upsert_account(session, acme, "X-1", "Acme's", emails=["x@acme.example"])
    g = accounts.upsert_account(session, globex, "X-1", "Globex's", emails=["x@globex.example"])

    assert a.id != g.id
    assert accounts.get_account(session, acme, "X-1").name == "Acme's"  # type: ignore[union-attr]
    assert accounts.get_account(session, globex, "X-1").name == "Globex's"  # type: ignore[union-attr]
    assert accounts.find_account_by_contact(session, globex, email="x@acme.example") is None


# (verified_at, expires_at) as offsets from NOW, and whether the event is valid at NOW.
VALIDITY = [
    ("current", timedelta(hours=-1), timedelta(hours=1), True),
    ("just_verified", timedelta(0), timedelta(minutes=5), True),
    ("expired", timedelta(hours=-3), timedelta(hours=-1), False),
    ("expires_now", timedelta(hours=-1), timedelta(0), False),
    ("not_yet", timedelta(minutes=1), timedelta(hours=1), False),
]


def test_valid_verifications_exclude_expired_and_future(
    session: Session, two_tenants: tuple[str, str]
) -> None:
    acme, globex = two_tenants
    account = accounts.upsert_account(session, acme, "A-1", "Alice")
    other = accounts.upsert_account(session, globex, "G-1", "Carol")
    ids = {}
    for ref, start, end, _ in VALIDITY:
        event = accounts.add_verification(
            session, acme, account, "email_code", "agent:7", NOW + start, NOW + end, evidence_ref=ref
        )
        ids[ref] = event.id
    accounts.add_verification(session, globex, other, "sms_code", "agent:9", NOW, NOW + timedelta(hours=1))

    valid = accounts.list_valid_verifications(session, acme, account, NOW)

    assert sorted(v.id for v in valid) == sorted(ids[ref] for ref, _, _, ok in VALIDITY if ok)
    assert all(v.valid_at(NOW) for v in valid)
    assert all(v.strength == METHOD_STRENGTH["email_code"] for v in valid)
    assert [v.verified_at for v in valid] == sorted((v.verified_at for v in valid), reverse=True)
    assert accounts.list_valid_verifications(session, globex, account, NOW) == []


@pytest.mark.parametrize(
    ("method", "verified", "expires", "error"),
    [
        ("carrier_pigeon", NOW, NOW + timedelta(hours=1), InvalidInput),
        ("email_code", NOW, NOW, InvalidInput),
        ("email_code", NOW, NOW - timedelta(seconds=1), InvalidInput),
        ("email_code", NOW.replace(tzinfo=None), NOW + timedelta(hours=1), InvalidInput),
    ],
)
def test_add_verification_refuses_bad_events(
    session: Session,
    two_tenants: tuple[str, str],
    method: str,
    verified: datetime,
    expires: datetime,
    error: type[Exception],
) -> None:
    account = accounts.upsert_account(session, two_tenants[0], "A-1")
    with pytest.raises(error):
        accounts.add_verification(session, two_tenants[0], account, method, "agent:1", verified, expires)


def test_add_verification_for_another_tenants_account_is_not_found(
    session: Session, two_tenants: tuple[str, str]
) -> None:
    acme, globex = two_tenants
    account = accounts.upsert_account(session, acme, "A-1")
    with pytest.raises(NotFound):
        accounts.add_verification(session, globex, account, "callback", "agent:1", NOW, NOW + timedelta(1))


# --- audit ---------------------------------------------------------------------------------------


def test_audit_entries_are_listed_newest_first_per_tenant(
    session: Session, two_tenants: tuple[str, str]
) -> None:
    acme, globex = two_tenants
    for minutes, subject in [(5, "T-2"), (10, "T-1"), (1, "T-3")]:
        audit.record(
            session,
            acme,
            "agent:1",
            "ticket_assessed",
            "ticket",
            subject,
            {"score": minutes},
            at=NOW - timedelta(minutes=minutes),
        )
    audit.record(session, globex, "agent:2", "ticket_assessed", "ticket", "G-1")

    entries = audit.list_entries(session, acme)

    assert [e.subject_id for e in entries] == ["T-3", "T-2", "T-1"]
    assert [e.subject_id for e in audit.list_entries(session, acme, limit=1)] == ["T-3"]
    assert [e.subject_id for e in audit.list_entries(session, globex)] == ["G-1"]


@pytest.mark.parametrize(
    ("event", "details"),
    [
        ("TicketAssessed", {}),
        ("assessed", {}),
        ("ticket-assessed", {}),
        ("ticket_assessed", {"requester": "alice@example.com"}),
        ("ticket_assessed", {"nested": [{"to": "Reply to BOB@Example.org please"}]}),
    ],
)
def test_audit_refuses_bad_events_and_contact_details(
    session: Session, two_tenants: tuple[str, str], event: str, details: dict[str, Any]
) -> None:
    with pytest.raises(InvalidInput):
        audit.record(session, two_tenants[0], "agent:1", event, "ticket", "T-1", details)
