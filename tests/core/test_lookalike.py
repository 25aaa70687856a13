"""lookalike_of: one row per domain an attacker would register (or a benign one that must pass)."""

from __future__ import annotations

import pytest

from app.core.lookalike import Lookalike, damerau_levenshtein, lookalike_of, lookalikes_in, skeleton

OWN = ("acme.com", "acme-corp.com", "globexcorporation.com", "ibm.com")

# (domain, expected (own, technique, distance) or None)
CASES: list[tuple[str, tuple[str, str, int] | None]] = [
    # --- the tenant's own names are never flagged
    ("acme.com", None),
    ("ACME.COM.", None),
    ("support.acme.com", None),
    ("sso.eu.acme-corp.com", None),
    ("jane.doe@acme.com", None),
    ("https://portal.acme.com/login", None),
    # --- unrelated and short
    ("google.com", None),
    ("gmail.com", None),
    ("zendesk.com", None),
    ("evil.io", None),
    ("ibn.com", None),  # labels under 4 characters: no edit distance
    ("ibmsupport.com", None),  # ... and no added word
    ("ibm.evil.io", None),  # ... and only the full domain counts in a subdomain
    ("localhost", None),
    ("192.168.0.1", None),
    ("https://acme.com@evil.io/login", None),  # the host is evil.io; acme.com is userinfo
    # --- confusable
    ("acrne.com", ("acme.com", "confusable", 2)),
    ("аcme.com", ("acme.com", "confusable", 1)),  # Cyrillic а
    ("xn--cme-5cd.com", ("acme.com", "confusable", 1)),  # the same, in punycode
    ("acme-c0rp.com", ("acme-corp.com", "confusable", 1)),
    ("lbm.com", ("ibm.com", "confusable", 1)),
    ("billing@acrne.net", ("acme.com", "confusable", 2)),
    # --- tld_swap
    ("acme.co", ("acme.com", "tld_swap", 0)),
    ("acme.net", ("acme.com", "tld_swap", 0)),
    ("acme.com.co", ("acme.com", "tld_swap", 0)),
    ("login.acme.co.uk", ("acme.com", "tld_swap", 0)),
    ("acme-corp.net", ("acme-corp.com", "tld_swap", 0)),
    ("ibm.co", ("ibm.com", "tld_swap", 0)),
    # --- edit_distance
    ("acne.com", ("acme.com", "edit_distance", 1)),
    ("amce.com", ("acme.com", "edit_distance", 1)),  # transposition
    ("acmee.com", ("acme.com", "edit_distance", 1)),
    ("acmecorp.com", ("acme-corp.com", "edit_distance", 1)),
    ("globexcorparation.com", ("globexcorporation.com", "edit_distance", 1)),
    ("globexcorpration.co", ("globexcorporation.com", "edit_distance", 1)),
    ("glibexcorparation.com", ("globexcorporation.com", "edit_distance", 2)),
    # --- added_word
    ("acme-support.com", ("acme.com", "added_word", 8)),
    ("acmesupport.com", ("acme.com", "added_word", 7)),
    ("support-acme.com", ("acme.com", "added_word", 8)),
    ("acme-helpdesk.net", ("acme.com", "added_word", 9)),
    ("acme-it.com", ("acme.com", "added_word", 3)),
    ("myacme.com", ("acme.com", "added_word", 2)),
    ("acme-corp-login.com", ("acme-corp.com", "added_word", 6)),
    # --- subdomain_trick
    ("acme.com.security-check.io", ("acme.com", "subdomain_trick", 0)),
    ("acme-com.evil.io", ("acme.com", "subdomain_trick", 0)),
    ("acme.account-verify.ru", ("acme.com", "subdomain_trick", 0)),
    ("login.acme-corp.com.phish.ru", ("acme-corp.com", "subdomain_trick", 0)),
    ("ibm.com.evil.io", ("ibm.com", "subdomain_trick", 0)),
]


@pytest.mark.parametrize(("domain", "expected"), CASES, ids=[c[0] for c in CASES])
def test_lookalike_of(domain: str, expected: tuple[str, str, int] | None) -> None:
    assert lookalike_of(domain, OWN) == (Lookalike(*expected) if expected else None)


def test_own_domains_may_be_given_as_hosts_or_addresses() -> None:
    assert lookalike_of("support.acme.com", ["www.acme.com"]) is None
    assert lookalike_of("acme.net", ["it@acme.com"]) == Lookalike("acme.com", "tld_swap", 0)


def test_a_second_own_domain_is_not_a_lookalike_of_the_first() -> None:
    assert lookalike_of("acme.net", ["acme.com", "acme.net"]) is None


def test_no_own_domains_means_no_lookalikes() -> None:
    assert lookalike_of("acrne.com", []) is None


def test_lookalikes_in_dedupes_and_keeps_order() -> None:
    found = lookalikes_in(["acme.net", "google.com", "ACME.NET", "jane@acrne.com", "support.acme.com"], ["acme.com"])
    assert found == [
        ("acme.net", Lookalike("acme.com", "tld_swap", 0)),
        ("acrne.com", Lookalike("acme.com", "confusable", 2)),
    ]


@pytest.mark.parametrize(
    ("label", "expected"),
    [("acrne", "acme"), ("paypa1", "paypai"), ("vvells", "weiis"), ("micr0s0ft", "microsoft")],
)
def test_skeleton(label: str, expected: str) -> None:
    assert skeleton(label) == expected


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("acme", "acme", 0), ("acme", "amce", 1), ("acme", "acne", 1), ("acme", "acmee", 1), ("kitten", "sitting", 3)],
)
def test_damerau_levenshtein(a: str, b: str, distance: int) -> None:
    assert damerau_levenshtein(a, b) == distance


def test_damerau_levenshtein_stops_at_the_limit() -> None:
    assert damerau_levenshtein("a" * 60, "b" * 60, limit=2) == 3
