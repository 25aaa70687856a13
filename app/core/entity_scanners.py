"""One scanner per entity kind: a precompiled regex finds candidates, a small check accepts them.

Every pattern is safe on attacker-written text: each starts with a look-behind that only lets a
match begin at the start of a token, and every repetition is bounded, so the work per start position
is bounded and a whole scan is linear in the text length. Checks that a regex would do badly
(checksums, date shapes, thousands grouping) run in Python on the short candidate.

Scanners return ``(start, end, value)`` triples; ``app.core.entities`` resolves overlaps.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from app.core.entity_tables import (
    ACCOUNT_KEYWORDS,
    CURRENCY_CODES,
    CURRENCY_SYMBOLS,
    CURRENCY_WORDS,
    FILE_EXTENSION_TLDS,
    IBAN_LENGTHS,
    ORDER_KEYWORDS,
    TLDS,
)

Found = tuple[int, int, str]

_LABEL = r"(?:[^\W_]|-){1,63}"  # a hostname label: Unicode letters/digits and hyphens
_HOST = rf"{_LABEL}(?:\.{_LABEL}){{1,16}}"
_HOST_END = r"(?![\w-]|\.[^\W_])"

_EMAIL = re.compile(rf"(?<![\w.%+-])[\w.%+-]{{1,64}}@(?P<host>{_HOST}){_HOST_END}")
_URL = re.compile(r"(?<![\w@.\-/])(?:(?i:https?)://|(?i:www)\.)[^\s<>\"'`{}|\\^]{1,2000}")
_DOMAIN = re.compile(rf"(?<![\w@.\-/:\\]){_HOST}{_HOST_END}")
_IBAN = re.compile(r"(?<![A-Za-z0-9])([A-Z]{2})[0-9]{2}(?: ?[A-Za-z0-9]){11,30}")
_IBAN_LETTERS = str.maketrans({chr(c): str(c - 55) for c in range(ord("A"), ord("Z") + 1)})  # A=10 ... Z=35


def _alternation(words: tuple[str, ...]) -> str:
    """Longest first, spaces matching 1-3 whitespace characters."""
    ordered = sorted(words, key=len, reverse=True)
    return "|".join(re.escape(w).replace(r"\ ", r"\s{1,3}") for w in ordered)


_QUALIFIER = r"(?:number|num|no|nr|id|ref|nummer|n[uú]mero|num[eé]ro)(?!\w)\.?|n[°º]"
_ID = r"(?P<id>[A-Za-z0-9](?:[A-Za-z0-9]|[-/_.](?=[A-Za-z0-9])){2,31})(?![\w-])"


def _keyword_id(keywords: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(
        rf"(?<!\w)(?=[^\W\d_])(?:{_alternation(keywords)})(?!\w)"
        rf"(?P<q>\s{{0,3}}(?:{_QUALIFIER}))?"
        rf"(?P<sep>[\s:#=]{{0,4}}(?:(?:is|was|es|est|ist)\s{{1,3}}[:#]?\s{{0,2}})?)"
        rf"{_ID}",
        re.I,
    )


_ORDER = _keyword_id(ORDER_KEYWORDS)
_ACCOUNT = _keyword_id(ACCOUNT_KEYWORDS)

_CARD_WORD = r"(?:card|visa|mastercard|amex|debit\s{1,3}card|credit\s{1,3}card|tarjeta|carte|karte)"
_CARD = re.compile(
    rf"(?<!\w)(?=[^\W\d_])(?:"
    rf"(?:{_CARD_WORD}\s{{1,3}}(?:number\s{{1,3}})?)?"
    r"(?:ending|ends|ended|terminada|terminando|termina|finissant|se\s{1,3}terminant|endet|endend)"
    r"(?:\s{1,3}(?:in|with|on|en|par|auf|mit))?"
    r"|last\s{1,3}(?:4|four)(?:\s{1,3}(?:digits?|numbers?))?"
    rf"(?:\s{{1,3}}(?:of|on)\s{{1,3}}(?:my|the)\s{{1,3}}{_CARD_WORD})?(?:\s{{1,3}}(?:are|is))?"
    r"|[uú]ltimos\s{1,3}(?:4|cuatro)\s{1,3}(?:d[ií]gitos|n[uú]meros)"
    r"(?:\s{1,3}de\s{1,3}(?:mi|la)\s{1,3}tarjeta|\s{1,3}son)?"
    r")[\s:#=*•-]{0,4}(?P<last4>\d{4})(?!\d)",
    re.I,
)
_MASKED_CARD = re.compile(r"(?<![\w*•])(?:[*•xX]{4}[ -]?){1,3}(?P<last4>\d{4})(?!\d)")  # **** **** **** 4242
_CARD_EXPLICIT = re.compile(rf"{_CARD_WORD}|tarjeta", re.I)
_NOT_A_CARD = re.compile(
    r"(?:phone|mobile|cell|tel|sim|ssn|social|account|acct|iban|year|quarter|period|fiscal|"
    r"m[oó]vil|tel[eé]fono|cuenta|compte|konto|handy)\W{1,3}(?:\w+\W{1,3}){0,3}$",
    re.I,
)

_SYMBOLS = "|".join(re.escape(s) for s in sorted(CURRENCY_SYMBOLS, key=len, reverse=True))
_CODES = "|".join(sorted(CURRENCY_CODES))
_WORDS = "|".join(sorted(CURRENCY_WORDS, key=len, reverse=True))
_NUM = r"\d{1,12}(?:[.,']\d{3}){0,5}(?:[.,]\d{1,2})?"
_NUM_SPACED = r"\d{1,12}(?:[.,' ]\d{3}){0,5}(?:[.,]\d{1,2})?"
_MULTIPLIERS = {"k": 10**3, "K": 10**3, "M": 10**6, "bn": 10**9}
_MULTIPLIER = "bn|[kKM]"  # $250k, €1.5M, 2bn USD
_AMOUNT = re.compile(
    rf"(?<![\w.,$€£¥₹₽₩₺₪₦])(?:"
    rf"(?P<pre>{_SYMBOLS}|(?:{_CODES})(?![A-Za-z]))\s?(?P<n1>{_NUM})(?P<k1>{_MULTIPLIER})?"
    rf"|(?P<n2>{_NUM_SPACED})(?P<k2>{_MULTIPLIER})?\s?(?P<suf>{_SYMBOLS}|(?:{_CODES})|(?i:{_WORDS}))"
    r")(?!\w|[.,]\d)"
)
_DECIMALS = re.compile(r"[.,](\d{1,2})$")


def emails(text: str) -> Iterator[Found]:
    if "@" not in text:
        return
    for m in _EMAIL.finditer(text):
        start = m.start()
        while text[start] == ".":
            start += 1
        if start < m.start("host") - 1 and valid_host(m.group("host"), strict=False):
            yield start, m.end(), text[start : m.end()].lower()


def urls(text: str) -> Iterator[Found]:
    for m in _URL.finditer(text):
        surface = m.group()
        unmatched = surface.count(")") - surface.count("(")
        end = len(surface)
        while end and surface[end - 1] in ".,;:!?'\")]}*":
            if surface[end - 1] == ")":
                if unmatched <= 0:
                    break  # the URL opened this bracket: (disambiguation)
                unmatched -= 1
            end -= 1
        surface = surface[:end]
        host = url_host(surface)
        if "." in host and valid_host(host, strict=False):
            yield m.start(), m.start() + len(surface), _lower_authority(surface)


def domains(text: str) -> Iterator[Found]:
    for m in _DOMAIN.finditer(text):
        if valid_host(m.group(), strict=True):
            yield m.start(), m.end(), m.group().lower()


def valid_host(host: str, *, strict: bool) -> bool:
    """Hostname shape; strict (bare names in prose) also wants a known TLD written in one case."""
    labels = host.split(".")
    if any(not label or label[0] == "-" or label[-1] == "-" for label in labels):
        return False
    tld = labels[-1]
    if tld.startswith("xn--"):
        return True
    if not tld.isalpha() or len(tld) < 2:
        return False
    if not strict:
        return True
    if not (tld.islower() or tld.isupper()) or tld.lower() not in TLDS:
        return False
    return tld.lower() not in FILE_EXTENSION_TLDS or len(labels) >= 3


def url_host(url: str) -> str:
    """The host of a URL (``https://user@Acme.com:443/x`` -> ``acme.com``), lower case."""
    rest = url.split("://", 1)[1] if "://" in url[:10] else url
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    host = authority.rsplit("@", 1)[-1]
    if host.startswith("["):
        return host.split("]", 1)[0][1:].lower()
    return host.split(":", 1)[0].lower().rstrip(".")


def _lower_authority(url: str) -> str:
    scheme, sep, rest = url.partition("://") if "://" in url[:10] else ("", "", url)
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    return scheme.lower() + sep + rest[:cut].lower() + rest[cut:]


def ibans(text: str) -> Iterator[Found]:
    pos = 0
    while (m := _IBAN.search(text, pos)) is not None:
        pos = m.start() + 4
        length = IBAN_LENGTHS.get(m.group(1))
        compact = m.group().replace(" ", "")
        if length is None or len(compact) < length or not iban_checksum_ok(compact[:length]):
            continue
        end = m.start() + _end_of_nth_alnum(m.group(), length)
        if end < len(text) and text[end].isalnum():
            continue  # longer than the country's IBAN: some other code
        yield m.start(), end, compact[:length].upper()
        pos = end


def _end_of_nth_alnum(surface: str, n: int) -> int:
    seen = 0
    for i, ch in enumerate(surface):
        seen += ch != " "
        if seen == n:
            return i + 1
    return len(surface)


def iban_checksum_ok(iban: str) -> bool:
    """ISO 13616 length for the country and ISO 7064 mod 97-10 checksum; spaces and case ignored."""
    iban = iban.replace(" ", "").upper()
    if IBAN_LENGTHS.get(iban[:2]) != len(iban) or not (iban.isascii() and iban.isalnum() and iban[2:4].isdigit()):
        return False
    return int((iban[4:] + iban[:4]).translate(_IBAN_LETTERS)) % 97 == 1


def _keyword_ids(pattern: re.Pattern[str], text: str) -> Iterator[Found]:
    for m in pattern.finditer(text):
        ident = m.group("id")
        digits = sum(ch.isdigit() for ch in ident)
        explicit = m.group("q") is not None or any(c in m.group("sep") for c in "#:=")
        if digits >= (1 if explicit else 3):
            yield m.start(), m.end(), ident.upper()


def order_ids(text: str) -> Iterator[Found]:
    return _keyword_ids(_ORDER, text)


def account_ids(text: str) -> Iterator[Found]:
    return _keyword_ids(_ACCOUNT, text)


def card_last4s(text: str) -> Iterator[Found]:
    for m in _CARD.finditer(text):
        if not _CARD_EXPLICIT.search(m.group()) and _NOT_A_CARD.search(text, max(0, m.start() - 40), m.start()):
            continue
        yield m.start(), m.end(), m.group("last4")
    for m in _MASKED_CARD.finditer(text):
        yield m.start(), m.end(), m.group("last4")


def amounts(text: str) -> Iterator[Found]:
    for m in _AMOUNT.finditer(text):
        marker = m.group("pre") or m.group("suf")
        code = CURRENCY_SYMBOLS.get(marker) or CURRENCY_WORDS.get(marker.lower()) or marker
        number = _number(m.group("n1") or m.group("n2"), _MULTIPLIERS.get(m.group("k1") or m.group("k2") or "", 1))
        yield m.start(), m.end(), f"{number} {code}"


def _number(surface: str, multiplier: int = 1) -> str:
    """'1.200,50' -> '1200.50'; '1,200' -> '1200'; a trailing 1-2 digit group is the decimal part.

    With a multiplier ('1.5' and 10**6) the result is whole when it can be: '1500000'.
    """
    decimals = _DECIMALS.search(surface)
    whole = surface[: decimals.start()] if decimals else surface
    integer = int("".join(ch for ch in whole if ch.isdigit()))
    cents = int(decimals.group(1).ljust(2, "0")) if decimals else None
    if multiplier == 1:
        return f"{integer}.{cents:02d}" if cents is not None else str(integer)
    total = integer * 100 * multiplier + (cents or 0) * multiplier
    return str(total // 100) if total % 100 == 0 else f"{total // 100}.{total % 100:02d}"
