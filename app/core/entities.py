"""Contact details and references in ticket text: emails, phones, URLs, domains, ids, amounts, IBANs.

``find_entities`` runs on every ticket, over attacker-written text, so it is pure, bounded and
linear: it scans at most ``MAX_SCAN_CHARS`` characters, every pattern is compiled at import and
built so that each start position costs bounded work (see ``app.core.entity_scanners`` and
``app.core.phone_numbers``).

The text is expected to be the clean view (NFKC, invisible characters removed); obfuscations such
as "name at domain dot com" are not decoded.

Overlaps are resolved in a fixed order of specificity, so the result never has two entities on
the same characters:

    url > iban > email > card_last4 > order_id > account_id > amount > phone > domain

In particular a URL's host is *not* reported again as a ``domain`` (call ``url_host(value)`` for
it), and an email's domain is not reported as a ``domain`` (call ``email_domain(value)``).

Spans and values per kind (``text[e.start:e.end]`` is always the matched surface):

- ``email``: the address; value lower-cased.
- ``phone``: the number as written; value digits with a leading ``+`` if written with one.
- ``url``: from ``http(s)://`` or ``www.`` up to whitespace, trailing punctuation such as ``).``
  removed (a closing bracket is kept when the URL opened it); value with scheme and host lower-cased.
- ``domain``: a bare hostname with a known TLD; value lower-cased, no trailing dot.
- ``order_id`` / ``account_id``: the whole phrase ("order #12345"); value the id, upper-cased.
- ``card_last4``: the whole phrase ("card ending in 4242", "**** 4242"); value the four digits.
- ``amount``: currency and number; value like ``"1200.50 USD"`` (integer when written without
  decimals, ``"$"`` read as USD, ``k``/``M``/``bn`` multiplied out: ``"$250k"`` -> ``"250000 USD"``).
- ``iban``: a checksum-valid IBAN, spaced or not; value upper-case without spaces.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from app.core import entity_scanners as scan
from app.core.entity_scanners import iban_checksum_ok, url_host
from app.core.entity_tables import MULTI_PART_SUFFIXES
from app.core.phone_numbers import normalize_phone, phones

__all__ = [
    "KINDS",
    "MAX_SCAN_CHARS",
    "Entity",
    "email_domain",
    "find_entities",
    "iban_checksum_ok",
    "normalize_email",
    "normalize_phone",
    "phones_match",
    "registrable_domain",
    "url_host",
]

MAX_SCAN_CHARS = 100_000

# Most specific first; the order decides which of two overlapping candidates is kept.
_SCANNERS: tuple[tuple[str, Callable[[str], Iterable[scan.Found]]], ...] = (
    ("url", scan.urls),
    ("iban", scan.ibans),
    ("email", scan.emails),
    ("card_last4", scan.card_last4s),
    ("order_id", scan.order_ids),
    ("account_id", scan.account_ids),
    ("amount", scan.amounts),
    ("phone", phones),
    ("domain", scan.domains),
)
KINDS: tuple[str, ...] = tuple(kind for kind, _ in _SCANNERS)

_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")


@dataclass(frozen=True, slots=True)
class Entity:
    """One entity found in a text: ``text[start:end]`` is the surface, ``value`` its normal form."""

    kind: str
    start: int
    end: int
    value: str


def find_entities(text: str) -> list[Entity]:
    """Entities in the first ``MAX_SCAN_CHARS`` characters of ``text``, sorted, never overlapping."""
    text = text[:MAX_SCAN_CHARS]
    if not text:
        return []
    taken = bytearray(len(text))  # 1 where an accepted entity already sits
    found: list[Entity] = []
    for kind, scanner in _SCANNERS:
        for start, end, value in scanner(text):
            if end <= start or taken.find(1, start, end) != -1:
                continue
            taken[start:end] = b"\x01" * (end - start)
            found.append(Entity(kind, start, end, value))
    found.sort(key=lambda e: e.start)
    return found


def normalize_email(s: str) -> str:
    """``' <Jane.Doe@Example.COM.> '`` -> ``'jane.doe@example.com'`` (also drops ``mailto:``)."""
    s = s.strip().strip("<>").strip()
    if s[:7].lower() == "mailto:":
        s = s[7:]
    local, at, domain = s.rpartition("@")
    if not at:
        return s.lower()
    return f"{local.lower()}@{domain.lower().rstrip('.')}"


def email_domain(email: str) -> str:
    """The domain of an address, lower case without a trailing dot; ``''`` when there is none."""
    _, at, domain = normalize_email(email).rpartition("@")
    return domain if at else ""


def _international(number: str) -> tuple[bool, str]:
    if number.startswith("+"):
        return True, number[1:]
    if number.startswith("00"):
        return True, number[2:]
    return False, number


def phones_match(a: str, b: str) -> bool:
    """The same phone number written two ways.

    Equal digits after normalization; or, when exactly one of the two carries a country code
    (``+`` or ``00``), the same last nine digits (so ``+44 20 7946 0958`` matches ``020 7946 0958``
    and ``+1 415 555 2671`` matches ``(415) 555-2671``). Numbers under seven digits never match, and
    a number under nine digits only matches itself: a false match would hide a changed contact.
    """
    intl_a, digits_a = _international(normalize_phone(a))
    intl_b, digits_b = _international(normalize_phone(b))
    if len(digits_a) < 7 or len(digits_b) < 7:
        return False
    if digits_a == digits_b:
        return True
    if intl_a == intl_b or len(digits_a) < 9 or len(digits_b) < 9:
        return False
    return digits_a[-9:] == digits_b[-9:]


def registrable_domain(host: str) -> str:
    """The eTLD+1 of a host: ``mail.acme.co.uk`` -> ``acme.co.uk``, ``support.acme.com`` -> ``acme.com``.

    Uses a small built-in list of multi-part suffixes (co.uk, com.au, com.br, github.io, ...), no
    network. Accepts an email address (uses its domain). IP addresses are returned unchanged.
    """
    h = host.strip().lower().rstrip(".")
    if "@" in h:
        h = h.rpartition("@")[2]
    if not h or ":" in h or _IPV4.fullmatch(h):
        return h
    labels = h.split(".")
    if len(labels) <= 2:
        return h
    if ".".join(labels[-2:]) in MULTI_PART_SUFFIXES:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])
