"""Free-mail and disposable-mail lookups, as the contact detectors call them."""

from __future__ import annotations

import pytest

from app.core.freemail import DISPOSABLE_MAIL_DOMAINS, FREE_MAIL_DOMAINS, is_disposable, is_free_mail


@pytest.mark.parametrize(
    ("domain", "free"),
    [
        ("gmail.com", True),
        ("GoogleMail.com", True),
        ("jane.doe@gmail.com", True),
        ("J.Doe@Outlook.com", True),
        ("hotmail.co.uk", True),
        ("hotmail.fr", True),
        ("live.com", True),
        ("yahoo.co.jp", True),
        ("yahoo.com.br", True),
        ("icloud.com", True),
        ("me.com", True),
        ("proton.me", True),
        ("protonmail.com", True),
        ("gmx.de", True),
        ("web.de", True),
        ("mail.ru", True),
        ("yandex.ru", True),
        ("qq.com", True),
        ("163.com", True),
        ("naver.com", True),
        ("gmail.com.", True),
        ("acme.com", False),
        ("ceo@acme-corp.co.uk", False),
        ("gmail.co", False),  # a lookalike of gmail, not gmail
        ("mailinator.com", False),  # disposable, not free mail
        ("", False),
    ],
)
def test_is_free_mail(domain: str, free: bool) -> None:
    assert is_free_mail(domain) is free


@pytest.mark.parametrize(
    ("domain", "disposable"),
    [
        ("mailinator.com", True),
        ("x7k2@Mailinator.com", True),
        ("guerrillamail.com", True),
        ("sharklasers.com", True),
        ("10minutemail.com", True),
        ("temp-mail.org", True),
        ("yopmail.com", True),
        ("alias.33mail.com", True),  # per-user subdomains
        ("gmail.com", False),
        ("acme.com", False),
        ("mailinator.com.evil.io", False),
        ("", False),
    ],
)
def test_is_disposable(domain: str, disposable: bool) -> None:
    assert is_disposable(domain) is disposable


def test_lists_are_lower_case_registrable_names_and_disjoint() -> None:
    for name in FREE_MAIL_DOMAINS | DISPOSABLE_MAIL_DOMAINS:
        assert name == name.lower().strip() and "." in name and "@" not in name
    assert not FREE_MAIL_DOMAINS & DISPOSABLE_MAIL_DOMAINS
    assert len(FREE_MAIL_DOMAINS) >= 60
    assert len(DISPOSABLE_MAIL_DOMAINS) >= 30
