"""Phone numbers in ticket text: international and national formats, 7-15 digits.

Dates, times, versions, IP addresses, thousands-grouped numbers, card numbers, US social security
numbers and references introduced by words such as "order", "ticket" or "#" are not phones. A run
of digits without any separator counts only with a leading "+" or a phone word shortly before it
("call me on ...").

One bounded regex proposes a span (at most 24 characters, starting at a token boundary); Python
checks its shape. The scan is linear in the text length.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator

Found = tuple[int, int, str]

_PHONE = re.compile(r"(?<![\w@#$€£¥₹+.,/:%-])(?:\+\s?)?\(?\d[\d ().-]{5,22}\d(?![\w@/:%]|[.,-]\d)")
_DIGIT_RUN = re.compile(r"\d+")
_NON_DIGITS = re.compile(r"\D+")
_SPACE = re.compile(" ")
_LUHN_DOUBLE = str.maketrans("0123456789", "0246813579")  # digit -> digit sum of its double
_CARD_NUMBER = re.compile(r"\d{4}(?:[ -]\d{4}){3}")
_PARENS = re.compile(r"\(\d{1,5}\)")
# Dates (2024-05-01, 01.05.2024) and the US social security number shape (123-45-6789).
_NOT_A_NUMBER_SHAPE = re.compile(
    r"\d{4}[-./ ]\d{1,2}[-./ ]\d{1,2}|\d{1,2}[-./ ]\d{1,2}[-./ ](?:19|20)\d\d|\d{3}-\d{2}-\d{4}"
)
_PHONE_SEPARATORS = frozenset({" ", ".", "-", ")", ") ", ")-", " (", "("})
_PHONE_CONTEXT = re.compile(
    r"\b(?:phone|tel|mobile|cell|call|text|sms|whatsapp|signal|number|fax|contact|reach|dial|"
    r"m[oó]vil|tel[eé]fono|t[eé]l[eé]phone|portable|handy|telefon|rufnummer|llamar|appel)",
    re.I,
)
_NOT_A_PHONE = re.compile(
    r"(?:\b(?:order|ticket|invoice|case|ref|reference|tracking|version|build|serial|id|po|rma|sku|"
    r"iban|routing|swift|bic|ssn|zip|postcode)|#|\b[a-z]{2}\d\d)\W{0,4}$"
    # an identifier introduced by what it is: "registration number is 0049812", "badge 4471"
    r"|\b(?:registration|member|membership|employee|staff|student|policy|licen[cs]e|badge|passport|account|"
    r"customer|client|patient|payroll|matr[ií]cula|order|ticket|case)(?:\s+(?:number|no|id|nr|num))?"
    r"(?:\s+(?:is|was|:))?\W{0,4}$",
    re.I,
)


def phones(text: str) -> Iterator[Found]:
    pos = 0
    while (m := _PHONE.search(text, pos)) is not None:
        found = _phone_in_span(m.group(), text, m.start())
        if found is None:
            pos = m.end()
            continue
        start, end = found
        yield start, end, normalize_phone(text[start:end])
        pos = end


def _phone_in_span(surface: str, text: str, start: int) -> tuple[int, int] | None:
    """The longest valid phone in a candidate span, starting in one of its first two chunks.

    A span can join a phone to a neighbouring number ("2024-05-01 415-555-2671"); trying the
    windows between spaces recovers the phone. At most two starts and seven ends are tried.
    """
    if surface[0] != "+" and _looks_like_card_number(surface):
        return None
    cuts = [m.start() for m in _SPACE.finditer(surface)]
    firsts = [0] + [k + 1 for k in cuts[:1] if surface[k + 1].isdigit() or surface[k + 1] == "("]
    ends = [len(surface), *(k for k in reversed(cuts) if surface[k - 1].isdigit())][:7]
    runs = [m.span() for m in _DIGIT_RUN.finditer(surface)]
    run_starts = [a for a, _ in runs]
    run_sizes = [b - a for a, b in runs]
    for first in firsts:
        lo = bisect_left(run_starts, first)
        for end in ends:
            sizes = run_sizes[lo : bisect_left(run_starts, end, lo)]
            if not 7 <= sum(sizes) <= 15 or sizes[1:].count(1) > 1:
                continue  # cheap shape test before the full check
            if _valid_phone(surface[first:end], text, start + first):
                if _NOT_A_PHONE.search(text, max(0, start - 24), start):
                    return None
                return start + first, start + end
    return None


def _looks_like_card_number(surface: str) -> bool:
    """A payment card number (16 digits in fours, or 13-19 digits passing Luhn): never a phone."""
    if _CARD_NUMBER.fullmatch(surface):
        return True
    if not 13 <= len(_NON_DIGITS.sub("", surface)) <= 19:
        return False
    digits = _NON_DIGITS.sub("", surface)
    total = sum(map(int, digits[-1::-2])) + sum(map(int, digits[-2::-2].translate(_LUHN_DOUBLE)))
    return total % 10 == 0


def _valid_phone(surface: str, text: str, start: int) -> bool:
    """Shape checks on one candidate of 7-15 digits; ``text`` and ``start`` give the words before it.

    Cheap string tests come first: this runs on every candidate of an attacker-written text.
    """
    plus = surface.startswith("+")
    body = surface[1:].lstrip() if plus else surface
    if body.count(" ") > 6:
        return False
    hyphen = body.find("-")
    if hyphen != -1 and " " in body[hyphen:]:
        return False  # "555-1234 555-9876" is two numbers, not one
    opens = body.count("(")
    if opens != body.count(")") or opens > 1 or (opens and not _PARENS.search(body)):
        return False
    parts = _DIGIT_RUN.split(body)
    inner = parts[1:-1]
    if parts[0] not in ("", "(") or parts[-1] or any(sep not in _PHONE_SEPARATORS for sep in inner):
        return False
    groups = _DIGIT_RUN.findall(body)
    kinds = {c for sep in inner for c in sep if c in " .-"}
    if ("." in kinds and len(kinds) > 1) or _NOT_A_NUMBER_SHAPE.fullmatch(body):
        return False
    if len(groups) == 1:
        return plus or bool(_PHONE_CONTEXT.search(text, max(0, start - 40), start))
    if sum(len(g) == 1 for g in groups[1:]) > 1:
        return False
    if plus or opens:
        return True
    if len(groups) == 2:
        return groups[0][0] == "0" or (len(groups[0]), len(groups[1])) == (3, 4)
    if kinds == {"."} and (any(len(g) < 2 for g in groups) or (len(groups) == 4 and all(len(g) <= 3 for g in groups))):
        return False
    thousands = all(len(g) == 3 for g in groups[1:]) and (kinds == {"."} or len(groups[0]) <= 2)
    return not thousands


def normalize_phone(s: str) -> str:
    """Digits only, keeping a leading '+'; '+44 (0)20 ...' drops the bracketed trunk zero."""
    s = s.strip()
    plus = s.startswith("+")
    if plus:
        s = s.replace("(0)", "")
    digits = _NON_DIGITS.sub("", s)
    if not digits.isascii():
        digits = "".join(str(int(ch)) for ch in digits)  # Arabic-Indic and other scripts' digits
    return "+" + digits if plus else digits
