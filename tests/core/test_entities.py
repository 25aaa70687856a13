"""find_entities and the contact helpers: one row per real-looking ticket fragment.

Each row lists every entity expected in the text as (kind, surface, value); the surface is checked
against ``text[start:end]``, so offsets are exact. An empty list is a negative case.
"""

from __future__ import annotations

import itertools

import pytest

from app.core.entities import (
    MAX_SCAN_CHARS,
    email_domain,
    find_entities,
    iban_checksum_ok,
    normalize_email,
    normalize_phone,
    phones_match,
    registrable_domain,
    url_host,
)

E = tuple[str, str, str]

CASES: list[tuple[str, list[E]]] = [
    # --- email
    ("Please reply to Jane.Doe@Example.com today", [("email", "Jane.Doe@Example.com", "jane.doe@example.com")]),
    ("From: IT Desk <it-desk@acme-corp.co.uk>", [("email", "it-desk@acme-corp.co.uk", "it-desk@acme-corp.co.uk")]),
    (
        "send the code to john.smith+backup@gmail.com.",
        [("email", "john.smith+backup@gmail.com", "john.smith+backup@gmail.com")],
    ),
    ("(mail: ceo@acme.com)", [("email", "ceo@acme.com", "ceo@acme.com")]),
    ("my new address is j_doe@proton.me, not the old one", [("email", "j_doe@proton.me", "j_doe@proton.me")]),
    ("mailto:Billing@Acme.IO?subject=refund", [("email", "Billing@Acme.IO", "billing@acme.io")]),
    ("ping me @ twitter or via @acme_support", []),
    ("ssh admin@localhost and retry", []),
    # --- url (the host is not reported again as a domain)
    (
        "Reset it here (https://acme-login.com/reset?id=42).",
        [("url", "https://acme-login.com/reset?id=42", "https://acme-login.com/reset?id=42")],
    ),
    (
        "Go to www.acme-support.net/verify, then call us.",
        [("url", "www.acme-support.net/verify", "www.acme-support.net/verify")],
    ),
    (
        "See https://en.wikipedia.org/wiki/Phishing_(disambiguation).",
        [
            (
                "url",
                "https://en.wikipedia.org/wiki/Phishing_(disambiguation)",
                "https://en.wikipedia.org/wiki/Phishing_(disambiguation)",
            )
        ],
    ),
    (
        "Link: HTTPS://Portal.ACME.com/Login!",
        [("url", "HTTPS://Portal.ACME.com/Login", "https://portal.acme.com/Login")],
    ),
    (
        "log in at https://acme.com@evil.io/login asap",
        [("url", "https://acme.com@evil.io/login", "https://acme.com@evil.io/login")],
    ),
    ("Open <https://sso.acme.com/saml> now", [("url", "https://sso.acme.com/saml", "https://sso.acme.com/saml")]),
    (
        "https://evil.io/?u=jane@acme.com",
        [("url", "https://evil.io/?u=jane@acme.com", "https://evil.io/?u=jane@acme.com")],
    ),
    # --- domain
    ("I work for acme-support.com and need access", [("domain", "acme-support.com", "acme-support.com")]),
    ("Visit Acme.com.", [("domain", "Acme.com", "acme.com")]),
    (
        "The portal is login.microsoftonline.com: sign in",
        [("domain", "login.microsoftonline.com", "login.microsoftonline.com")],
    ),
    ("I ordered from bücher.de last week", [("domain", "bücher.de", "bücher.de")]),
    ("mail server sub.example.co.uk. is down", [("domain", "sub.example.co.uk", "sub.example.co.uk")]),
    ("download it from dl.acme.sh please", [("domain", "dl.acme.sh", "dl.acme.sh")]),
    ("See the attached file.txt, notes.docx and app.js", []),
    ("e.g. the i.e. case, 9 a.m. in the U.S.A.", []),
    ("We upgraded to version 3.8.0 and Python 3.11", []),
    ("Mr.Smith called, ask Dr.Jones", []),
    ("Please run setup.py, read README.md, then unzip invoice.zip", []),
    # --- phone
    ("Call me on +1 (415) 555-2671 asap", [("phone", "+1 (415) 555-2671", "+14155552671")]),
    ("my mobile is 020 7946 0958", [("phone", "020 7946 0958", "02079460958")]),
    ("Office: +44 (0)20 7946 0958", [("phone", "+44 (0)20 7946 0958", "+442079460958")]),
    ("Tel. 06 12 34 56 78", [("phone", "06 12 34 56 78", "0612345678")]),
    ("Portable : 06.12.34.56.78", [("phone", "06.12.34.56.78", "0612345678")]),
    ("Joignable au +33 6 12 34 56 78.", [("phone", "+33 6 12 34 56 78", "+33612345678")]),
    ("Handy: +49 151 12345678", [("phone", "+49 151 12345678", "+4915112345678")]),
    ("call 555-1234 after 5", [("phone", "555-1234", "5551234")]),
    ("home 555-1234 555-9876", [("phone", "555-1234", "5551234"), ("phone", "555-9876", "5559876")]),
    ("whatsapp +4915112345678 only", [("phone", "+4915112345678", "+4915112345678")]),
    ("call me at 4155552671 tonight", [("phone", "4155552671", "4155552671")]),
    ("Мой номер +7 912 345-67-89", [("phone", "+7 912 345-67-89", "+79123456789")]),
    ("Neue Nummer 0171 1234567", [("phone", "0171 1234567", "01711234567")]),
    ("Call 1-800-555-0199 for support", [("phone", "1-800-555-0199", "18005550199")]),
    ("mi móvil 612 345 678", [("phone", "612 345 678", "612345678")]),
    ("On 2024-05-01 call 415-555-2671", [("phone", "415-555-2671", "4155552671")]),
    # --- not phones
    ("The code 4155552671 didn't work", []),
    ("Since 2024-05-01 the login fails", []),
    ("On 01.05.2024 at 10:30 and 05/01/2024 14:45", []),
    ("Server 192.168.100.200 is down", []),
    ("we lost 1.234.567 records", []),
    ("Windows build 10.0.19045.2965", []),
    ("prices went from 1000-2000", []),
    ("card 4242 4242 4242 4242 was declined", []),
    ("ZIP 94105-1234", []),
    ("12 345 678 users affected", []),
    ("between 10:30-11:45 tomorrow", []),
    ("ref #5551234567 and #4155552671", []),
    ("my ssn is 123-45-6789", []),
    ("Chrome 124.0.6367.91 on Windows 11 23H2, error 0x80070005", []),
    # --- order_id
    ("Where is order #12345678?", [("order_id", "order #12345678", "12345678")]),
    ("order number A1B2-3344 never arrived", [("order_id", "order number A1B2-3344", "A1B2-3344")]),
    ("Re: ticket 99812", [("order_id", "ticket 99812", "99812")]),
    ("Order No. 778899", [("order_id", "Order No. 778899", "778899")]),
    ("invoice INV-2024-0012 is wrong", [("order_id", "invoice INV-2024-0012", "INV-2024-0012")]),
    (
        "pedido 12345, commande n° 67890, Bestellung 24680",
        [
            ("order_id", "pedido 12345", "12345"),
            ("order_id", "commande n° 67890", "67890"),
            ("order_id", "Bestellung 24680", "24680"),
        ],
    ),
    ("número de pedido 778812", [("order_id", "número de pedido 778812", "778812")]),
    ("Ticket ID: 2024-05-01-0042", [("order_id", "Ticket ID: 2024-05-01-0042", "2024-05-01-0042")]),
    ("my order was late, in case 3 people ask", []),
    # --- account_id
    ("account number 1234567", [("account_id", "account number 1234567", "1234567")]),
    ("customer id C-99812", [("account_id", "customer id C-99812", "C-99812")]),
    ("user id 8812 is locked", [("account_id", "user id 8812", "8812")]),
    ("acct #4421", [("account_id", "acct #4421", "4421")]),
    ("Employee ID: E-20931", [("account_id", "Employee ID: E-20931", "E-20931")]),
    ("número de cuenta 99887766", [("account_id", "número de cuenta 99887766", "99887766")]),
    ("numéro de compte 55120", [("account_id", "numéro de compte 55120", "55120")]),
    ("Kontonummer 55443322", [("account_id", "Kontonummer 55443322", "55443322")]),
    ("my account 2FA is broken", []),
    # --- card_last4
    ("charged on my card ending in 4242", [("card_last4", "card ending in 4242", "4242")]),
    ("last four digits 4242", [("card_last4", "last four digits 4242", "4242")]),
    ("my Visa ends with 1234", [("card_last4", "Visa ends with 1234", "1234")]),
    ("the one ending 4242", [("card_last4", "ending 4242", "4242")]),
    ("tarjeta terminada en 4242", [("card_last4", "tarjeta terminada en 4242", "4242")]),
    ("card: **** **** **** 1881", [("card_last4", "**** **** **** 1881", "1881")]),
    ("the last 4 of my card are 5678", [("card_last4", "last 4 of my card are 5678", "5678")]),
    ("my phone number ending in 1234", []),
    ("fiscal year ending 2024", []),
    # --- amount
    ("refund $1,200.50 to me", [("amount", "$1,200.50", "1200.50 USD")]),
    ("Betrag 1.200,50 € offen", [("amount", "1.200,50 €", "1200.50 EUR")]),
    ("EUR 500 please", [("amount", "EUR 500", "500 EUR")]),
    ("send 500 euros", [("amount", "500 euros", "500 EUR")]),
    ("a £20 gift card", [("amount", "£20", "20 GBP")]),
    ("wire 1500 USD", [("amount", "1500 USD", "1500 USD")]),
    ("paguei R$ 300", [("amount", "R$ 300", "300 BRL")]),
    ("I paid $1,200,000.00", [("amount", "$1,200,000.00", "1200000.00 USD")]),
    ("Frais : 10 000 €", [("amount", "10 000 €", "10000 EUR")]),
    ("CHF 1'000 überweisen", [("amount", "CHF 1'000", "1000 CHF")]),
    ("wire $250k before noon", [("amount", "$250k", "250000 USD")]),
    ("a €1.5M acquisition", [("amount", "€1.5M", "1500000 EUR")]),
    ("try 500 times, 3 cats, 0.5 BTC, 10Kg", []),
    # --- iban
    ("IBAN: DE89 3704 0044 0532 0130 00", [("iban", "DE89 3704 0044 0532 0130 00", "DE89370400440532013000")]),
    ("pay GB82WEST12345698765432 now", [("iban", "GB82WEST12345698765432", "GB82WEST12345698765432")]),
    (
        "RIB FR14 2004 1010 0505 0001 3M02 606.",
        [("iban", "FR14 2004 1010 0505 0001 3M02 606", "FR1420041010050500013M02606")],
    ),
    ("new bank NL91ABNA0417164300", [("iban", "NL91ABNA0417164300", "NL91ABNA0417164300")]),
    ("IBAN DE89 3704 0044 0532 0130 01 (typo?)", []),
    (
        "account number DE89370400440532013000",
        [("iban", "DE89370400440532013000", "DE89370400440532013000")],
    ),
    # --- several kinds in one message
    (
        "Hola, mi número es 612 34 56 78 y mi correo es juan@correo.es. Le pago 250,00 € por el pedido nº 887766.",
        [
            ("phone", "612 34 56 78", "612345678"),
            ("email", "juan@correo.es", "juan@correo.es"),
            ("amount", "250,00 €", "250.00 EUR"),
            ("order_id", "pedido nº 887766", "887766"),
        ],
    ),
    (
        "This is the CFO. Wire €45,000 to GB82 WEST 1234 5698 7654 32 today, confirm to cfo@acme-finance.com "
        "or +44 7700 900123.",
        [
            ("amount", "€45,000", "45000 EUR"),
            ("iban", "GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432"),
            ("email", "cfo@acme-finance.com", "cfo@acme-finance.com"),
            ("phone", "+44 7700 900123", "+447700900123"),
        ],
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_find_entities(text: str, expected: list[E]) -> None:
    found = find_entities(text)
    assert [(e.kind, text[e.start : e.end], e.value) for e in found] == expected


def test_entities_are_sorted_and_never_overlap() -> None:
    text = " ".join(c[0] for c in CASES)
    found = find_entities(text)
    assert found == sorted(found, key=lambda e: e.start)
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))


def test_only_the_first_max_scan_chars_are_scanned() -> None:
    assert find_entities("a" * MAX_SCAN_CHARS + " jane@acme.com") == []
    assert [e.kind for e in find_entities(" " * (MAX_SCAN_CHARS - 20) + "jane@acme.com")] == ["email"]


PATHOLOGICAL = {
    "letters": "a" * 100_000,
    "digit-dash": "1-" * 50_000,
    "at-signs": "@" * 50_000,
    "label-dots": "a." * 50_000,
    "digits": "1" * 100_000,
    "digit-space": "1 " * 50_000,
    "dotted-digits": "1.1 " * 25_000,
    "email-ish": "a@" + "a." * 49_999,
    "url-schemes": "http://" * 14_285,
    "domains": "x.com " * 16_666,
    "currency": "$1," * 33_333,
    "iban-starts": "DE89 " * 20_000,
    "keywords": "order account card ending last four " * 2_800,
    "parens": "(1) " * 25_000,
    "masks": "*" * 100_000,
}


@pytest.mark.parametrize("text", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_pathological_input_completes(text: str) -> None:
    # Not timed here: the patterns are linear, so these finish in well under a second.
    found = find_entities(text + text)  # twice the cap: the tail is ignored
    assert all(0 <= e.start < e.end <= MAX_SCAN_CHARS for e in found)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" <Jane.Doe@Example.COM.> ", "jane.doe@example.com"),
        ("mailto:Bob@Acme.io", "bob@acme.io"),
        ("plain", "plain"),
    ],
)
def test_normalize_email(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+1 (415) 555-2671", "+14155552671"),
        ("(415) 555-2671", "4155552671"),
        ("+44 (0)20 7946 0958", "+442079460958"),
        ("0044 20 7946 0958", "00442079460958"),
        ("06.12.34.56.78", "0612345678"),
    ],
)
def test_normalize_phone(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("+1 415 555 2671", "(415) 555-2671", True),
        ("+44 20 7946 0958", "020 7946 0958", True),
        ("0044 20 7946 0958", "020 7946 0958", True),
        ("+49 171 1234567", "0171 1234567", True),
        ("415-555-2671", "415.555.2671", True),
        ("+1 415 555 2671", "+44 415 555 2671", False),  # two country codes must agree
        ("415 555 2671", "415 555 2672", False),
        ("555-1234", "+1 415 555 1234", False),  # too short to match on a suffix
        ("123456", "123456", False),  # under seven digits
        ("", "", False),
    ],
)
def test_phones_match(a: str, b: str, same: bool) -> None:
    assert phones_match(a, b) is same
    assert phones_match(b, a) is same


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("support.acme.com", "acme.com"),
        ("acme.com", "acme.com"),
        ("mail.acme.co.uk", "acme.co.uk"),
        ("WWW.Shop.Acme.COM.AU.", "acme.com.au"),
        ("a.b.acme.com.br", "acme.com.br"),
        ("acme.com.co", "acme.com.co"),
        ("acme.github.io", "acme.github.io"),
        ("jane@eu.mail.acme.de", "acme.de"),
        ("localhost", "localhost"),
        ("10.0.0.1", "10.0.0.1"),
    ],
)
def test_registrable_domain(host: str, expected: str) -> None:
    assert registrable_domain(host) == expected


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://user@Acme.com:443/x", "acme.com"),
        ("https://acme.com@evil.io/login", "evil.io"),
        ("www.Acme.com/path?q=1", "www.acme.com"),
        ("http://[2001:db8::1]:8080/", "2001:db8::1"),
    ],
)
def test_url_host(url: str, host: str) -> None:
    assert url_host(url) == host


def test_email_domain() -> None:
    assert email_domain("Jane.Doe@Mail.Acme.com.") == "mail.acme.com"
    assert email_domain("not an address") == ""


@pytest.mark.parametrize(
    ("iban", "ok"),
    [
        ("DE89370400440532013000", True),
        ("GB82WEST12345698765432", True),
        ("BE68539007547034", True),
        ("DE89370400440532013001", False),  # checksum
        ("DE8937040044053201300", False),  # length for DE is 22
        ("XX89370400440532013000", False),  # unknown country
    ],
)
def test_iban_checksum(iban: str, ok: bool) -> None:
    assert iban_checksum_ok(iban) is ok
