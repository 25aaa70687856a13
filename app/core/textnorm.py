"""Normalize attacker-written text against evasion while keeping a map back to the original.

Two views are built from one original string:

- ``clean``: markup stripped, Unicode NFKC, zero-width / bidi / other format characters removed,
  confusable letters folded to Latin inside Latin-script text. spaCy and the entity patterns read it.
- ``folded``: ``clean`` lower-cased, accents stripped and common leetspeak folded inside words that
  mix letters with digits or symbols. Rule packs match against it.

Each view keeps, per character, the span of the original it came from, so every match is reported
as offsets into the text the helpdesk sent.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from app.core.confusables import CONFUSABLES, LEET

# Invisible characters used to split words without changing how they look.
_INVISIBLE = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\u206a"
    "\u206b\u206c\u206d\u206e\u206f\u3164\ufeff\uffa0"
)
_TAG = re.compile(
    r"<(?:(script|style)\b[^>]{0,500}>.{0,20000}?</\1\s*>|/?[a-zA-Z][a-zA-Z0-9]{0,15}(?:\s[^<>]{0,500})?/?>|![^<>]{0,500}>)",
    re.S | re.I,
)
_BLOCK_TAG = re.compile(r"</?(?:p|div|br|li|tr|td|h\d|blockquote|table|ul|ol)\b", re.I)
_ENTITY = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{1,7}|#[xX][0-9a-fA-F]{1,6});")
_LOOKS_HTML = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]{0,15}(?:\s[^<>]{0,200})?/?>|&(?:[a-zA-Z]{2,8}|#\d{1,7});")
_WORD = re.compile(r"[^\s.,;:!?()\[\]{}\"'<>/\\]+")
# A full stop inside a number or after a common abbreviation.
_INNER_STOP = re.compile(
    r"(?<=\d)\.(?=\d)|(?<=\b[Mm]r)\.|(?<=\b[Mm]rs)\.|(?<=\b[Mm]s)\.|(?<=\b[Dd]r)\.|(?<=\b[Ss]t)\.(?= [A-Z])"
    r"|(?<=\b[Pp]rof)\.|(?<=\be\.g)\.|(?<=\bi\.e)\.|(?<=\be)\.(?=g\.)|(?<=\bi)\.(?=e\.)|(?<=\b[Nn]o)\.(?= ?\d)"
)
# A word with at least one character that leetspeak uses for a letter (the only words _leet rewrites).
_LEET_WORD = re.compile(r"[^\s.,;:!?()\[\]{}\"'<>/\\]*[013457@$|][^\s.,;:!?()\[\]{}\"'<>/\\]*")
_DOMAIN_AFTER = re.compile(r"\.[a-zA-Z]")  # "name@example" followed by ".com": an email, not leetspeak


@dataclass(frozen=True, slots=True)
class View:
    """A transformed text with, per character, the original span it came from."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        if start >= end or not self.text:
            pos = self.starts[start] if start < len(self.starts) else (self.ends[-1] if self.ends else 0)
            return pos, pos
        return self.starts[start], self.ends[end - 1]


def _is_latin_text(text: str) -> bool:
    """True when most letters are Latin, so stray Cyrillic/Greek look-alikes are evasion."""
    latin = other = 0
    for ch in text[:5000]:
        if ch.isalpha():
            if ch.isascii() or "LATIN" in unicodedata.name(ch, ""):
                latin += 1
            else:
                other += 1
    return latin >= other


_ANY_WORD = re.compile(r"[^\W_]+")


def _confusable_words(text: str) -> bytearray:
    """Per character, 1 where look-alike letters should be read as Latin.

    A word is folded when it mixes Latin letters with look-alikes ("pаssword" with a Cyrillic а),
    or, in mostly Latin text, when every non-Latin letter in it has a Latin look-alike. A real
    Cyrillic or Greek word ("Иван", "Петров") has letters without one and is left alone.
    """
    mask = bytearray(len(text))
    latin_text: bool | None = None
    for m in _ANY_WORD.finditer(text):
        word = m.group(0)
        if word.isascii():
            continue
        foreign = [c for c in word if c.isalpha() and not c.isascii()]
        if not foreign:
            continue
        mixed = any(c.isascii() and c.isalpha() for c in word)
        if not mixed:
            if not all(c in CONFUSABLES for c in foreign):
                continue
            if latin_text is None:
                latin_text = _is_latin_text(text)
            if not latin_text:
                continue
        mask[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
    return mask


def _markup_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, replacement) for tags and entities when the text looks like HTML."""
    if not _LOOKS_HTML.search(text):
        return []
    spans: list[tuple[int, int, str]] = []
    for m in _TAG.finditer(text):
        spans.append((m.start(), m.end(), "\n" if _BLOCK_TAG.match(m.group(0)) else ""))
    for m in _ENTITY.finditer(text):
        if not any(s <= m.start() < e for s, e, _ in spans):
            spans.append((m.start(), m.end(), unicodedata.normalize("NFKC", html.unescape(m.group(0)))))
    spans.sort()
    return spans


def clean_view(text: str) -> View:
    """NFKC, invisible characters removed, markup stripped, confusables folded in Latin text."""
    if text.isascii() and "<" not in text and "&" not in text:
        return View(text, tuple(range(len(text))), tuple(range(1, len(text) + 1)))
    fold_at = _confusable_words(text)
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    spans = _markup_spans(text)
    span_i = 0
    i, n = 0, len(text)
    while i < n:
        if span_i < len(spans) and spans[span_i][0] <= i:
            s, e, repl = spans[span_i]
            span_i += 1
            if s < i:  # overlapping markup (entity inside a tag we already skipped)
                continue
            for ch in repl:
                out.append(ch)
                starts.append(s)
                ends.append(e)
            i = e
            continue
        # one cluster: a base character followed by combining marks (and invisibles between them)
        j = i + 1
        while j < n and (unicodedata.category(text[j]) in ("Mn", "Me") or text[j] in _INVISIBLE):
            j += 1
        cluster = "".join(c for c in text[i:j] if c not in _INVISIBLE)
        if cluster:
            normalized = unicodedata.normalize("NFKC", cluster)
            for ch in normalized:
                if unicodedata.category(ch) in ("Mn", "Me", "Cf"):
                    continue  # a mark with no precomposed form: decoration used to split words
                if fold_at[i]:
                    ch = CONFUSABLES.get(ch, ch)
                out.append(ch)
                starts.append(i)
                ends.append(j)
        i = j
    return View("".join(out), tuple(starts), tuple(ends))


def _strip_accent(ch: str) -> str:
    if ch.isascii():
        return ch
    base = unicodedata.normalize("NFD", ch)[0]
    return base if base.isascii() else ch


# Not leetspeak: an IBAN prefix ("DE44"), "2FA", times and sizes ("10am", "5GB"), ordinals ("3rd").
_CODE_LIKE = re.compile(r"^[A-Z]{2}\d{2}$|^\d{1,4}(?:fa|am|pm|k|m|x|g|gb|mb|kb|h|hrs|min|mins|s)$", re.I)
_ORDINAL = re.compile(r"^\d*?(1[123]th|1st|2nd|3rd|[04-9]th)$", re.I)


def _is_contact_chunk(text: str, start: int, end: int) -> bool:
    """Whether the whitespace-delimited chunk around text[start:end] is an email address or a link."""
    lo = max(text.rfind(" ", 0, start), text.rfind("\n", 0, start)) + 1
    hi = min((i for i in (text.find(" ", end), text.find("\n", end)) if i != -1), default=len(text))
    chunk = text[lo:hi]
    return "@" in chunk or "://" in chunk or chunk.lower().startswith("www.")


def _leet(clean: str, *, keep_contacts: bool) -> Iterator[tuple[int, str]]:
    """(index, letter) for each digit or symbol standing for a letter in a word written in leetspeak.

    With `keep_contacts`, words that are part of an email address or a link are left whole.
    """
    for m in _LEET_WORD.finditer(clean):
        word = m.group(0)
        letters = sum(c.isalpha() for c in word)
        if letters < 2 or letters * 2 < len(word) - 1 or _CODE_LIKE.match(word) or _ORDINAL.match(word):
            continue  # an id, a code or an IBAN prefix, not a word written in leetspeak
        email_like = "@" in word and _DOMAIN_AFTER.match(clean, m.end()) is not None
        if keep_contacts and (email_like or _is_contact_chunk(clean, m.start(), m.end())):
            continue
        for k, c in enumerate(word, start=m.start()):
            if c in LEET and not (c == "@" and email_like):
                yield k, LEET[c]


def fold(clean: str) -> str:
    """Lower-case, strip accents and fold leetspeak; the result has exactly len(clean) characters.

    A full stop that does not end a sentence (in "£48,260.00", "Dr. Lund", "e.g. this") becomes a
    comma, so rule patterns that stay within one sentence read across it.
    """
    chars = [c if len(c) == 1 else ch for ch in clean for c in (_strip_accent(ch).lower(),)]
    for k, letter in _leet(clean, keep_contacts=False):
        chars[k] = letter
    for m in _INNER_STOP.finditer(clean):
        chars[m.start()] = ","
    return "".join(chars)


def unleet(clean: str) -> str:
    """`clean` with leetspeak read as letters (case kept, contacts untouched); same length.

    Entity patterns read it, so "4cc0unt 44192031" is still an account number, not a phone.
    """
    chars = list(clean)
    for k, letter in _leet(clean, keep_contacts=True):
        chars[k] = letter
    return "".join(chars)


# Letters written one at a time to split words: "p a s s w o r d" (four or more, spaces) or "r.e.s.e.t"
# (three or more, the same dot, dash or underscore between each). Not a compound such as "é o e-mail".
_SPACED = re.compile(
    r"(?<![^\W\d_])(?:(?:[^\W\d_] ){3,}|(?:[^\W\d_]([._\-]))(?:[^\W\d_]\1)+)[^\W\d_](?![^\W\d_]|[._\-][^\W\d_])"
)


def fold_with_map(clean: str) -> tuple[str, tuple[int, ...]]:
    """`fold(clean)` with letters spaced out to dodge matching joined again.

    Returns the folded text and, per folded character, its index in `clean`.
    """
    folded = fold(clean)
    if not _SPACED.search(folded):
        return folded, tuple(range(len(folded)))
    out: list[str] = []
    index: list[int] = []
    pos = 0
    for m in _SPACED.finditer(folded):
        out.append(folded[pos : m.start()])
        index.extend(range(pos, m.start()))
        for k in range(m.start(), m.end(), 2):  # every other character: the letters
            out.append(folded[k])
            index.append(k)
        pos = m.end()
    out.append(folded[pos:])
    index.extend(range(pos, len(folded)))
    return "".join(out), tuple(index)
