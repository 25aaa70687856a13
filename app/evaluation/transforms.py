"""Deterministic rewrites of a ticket for the evasion suite and the fairness audit.

Evasion: the attacker's own text obfuscated (homoglyphs, zero-width characters, leetspeak, letters
spaced out, HTML with a quoted reply below). Fairness: the requester's name swapped across cultures
and scripts, and the writing rewritten with common non-native English features.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from app.core.ticket import Ticket

_HOMOGLYPHS = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "і"}
_LEET = {"a": "4", "e": "3", "o": "0", "s": "5", "t": "7"}
_WORD = re.compile(r"[^\W\d_]{4,}")  # words of any script, accents included
# Contacts and links are left as they are: obfuscating them would change where replies go.
_CONTACT = re.compile(r"\S+@\S+|https?://\S+|www\.\S+|\+?\d[\d ()-]{6,}\d")


def _outside_contacts(text: str, rewrite: Callable[[str], str]) -> str:
    out, pos = [], 0
    for m in _CONTACT.finditer(text):
        out.append(rewrite(text[pos : m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(rewrite(text[pos:]))
    return "".join(out)


def _every_other_word(text: str, rewrite: Callable[[str], str]) -> str:
    count = 0

    def sub(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return rewrite(m.group(0)) if count % 2 else m.group(0)

    return _WORD.sub(sub, text)


def homoglyphs(text: str) -> str:
    return _every_other_word(text, lambda w: "".join(_HOMOGLYPHS.get(c, c) for c in w))


def zero_width(text: str) -> str:
    return _every_other_word(text, lambda w: w[: len(w) // 2] + "\u200b" + w[len(w) // 2 :])


def leetspeak(text: str) -> str:
    def leet(word: str) -> str:
        out, changed = [], 0
        for c in word:
            if c.lower() in _LEET and changed < 2:
                out.append(_LEET[c.lower()])
                changed += 1
            else:
                out.append(c)
        return "".join(out)

    return _every_other_word(text, leet)


_LONE_LETTER = re.compile(r"(?:^|\W)\w\W*$|^\W*\w(?:\W|$)")


def spaced(text: str) -> str:
    """Every other word of 5-9 letters written "p a s s w o r d".

    A word next to a one-letter word ("a", "I") is left alone: "a w i r e" cannot be read back
    unambiguously by anyone, person or machine.
    """
    count = 0

    def sub(m: re.Match[str]) -> str:
        nonlocal count
        word = m.group(0)
        before, after = text[max(0, m.start() - 3) : m.start()], text[m.end() : m.end() + 3]
        if not 5 <= len(word) <= 9 or _LONE_LETTER.search(before) or _LONE_LETTER.search(after):
            return word
        count += 1
        return " ".join(word) if count % 2 else word

    return _WORD.sub(sub, text)


def html_reply(text: str) -> str:
    body = "<br>".join(text.splitlines()) or text
    return (
        f'<html><body><div dir="ltr"><p>{body}</p></div><div class="gmail_quote">'
        "<p>On Mon, 5 Jan 2026 at 09:12, Support &lt;support@example.com&gt; wrote:</p>"
        "<blockquote>&gt; Thanks for contacting us. How can we help you today?</blockquote></div></body></html>"
    )


EVASIONS: dict[str, Callable[[str], str]] = {
    "homoglyphs": homoglyphs,
    "zero_width": zero_width,
    "leetspeak": leetspeak,
    "spaced_letters": spaced,
    "html_quoted_reply": html_reply,
}


def rewrite_messages(ticket: Ticket, rewrite: Callable[[str], str]) -> Ticket:
    messages = [
        m.model_copy(
            update={"body": _outside_contacts(m.body, rewrite) if rewrite is not html_reply else rewrite(m.body)}
        )
        if m.author == "requester"
        else m
        for m in ticket.messages
    ]
    return ticket.model_copy(update={"messages": messages})


# Names from many cultures and scripts, with an ASCII form for email addresses.
NAMES: tuple[tuple[str, str], ...] = (
    ("Emily Walker", "emily.walker"),
    ("Nguyễn Thị Lan", "lan.nguyen"),
    ("Oluwaseun Adeyemi", "oluwaseun.adeyemi"),
    ("张伟", "wei.zhang"),
    ("Aarav Sharma", "aarav.sharma"),
    ("فاطمة الزهراء", "fatima.alzahra"),
    ("Иван Петров", "ivan.petrov"),
    ("José García Pérez", "jose.garcia"),
    ("Kwame Mensah", "kwame.mensah"),
    ("田中 由紀", "yuki.tanaka"),
    ("Siobhán Ní Bhriain", "siobhan.nibhriain"),
    ("Mohammed Al-Farsi", "mohammed.alfarsi"),
    ("Ngozi Okonkwo-Eze", "ngozi.okonkwo"),
    ("Björn Åström", "bjorn.astrom"),
    ("Kalani Kahananui", "kalani.kahananui"),
    ("Dvora Ben-David", "dvora.bendavid"),
)
NAME_GROUPS = {name: name for name, _ in NAMES}


def _literal(text: str) -> Callable[[re.Match[str]], str]:
    """A replacement that inserts `text` as it is (no backslash or group processing)."""
    return lambda _m: text


def swap_name(ticket: Ticket, new_name: str, new_slug: str) -> Ticket | None:
    """The same ticket with the account holder's name (and its email form) replaced everywhere."""
    account = ticket.account
    old = (account.name if account else "") or ticket.requester.name
    parts = old.split()
    if len(parts) < 2:
        return None
    raw = json.dumps(ticket.model_dump(mode="json"), ensure_ascii=False)
    first, last = parts[0], parts[-1]
    new_first, new_last = new_name.split()[0], new_name.split()[-1]
    slug_first, slug_last = new_slug.split(".")[0], new_slug.split(".")[-1]
    for src, dst in (
        (old, new_name),
        (f"{first.lower()}.{last.lower()}", new_slug),
        (f"{first[0].lower()}.{last.lower()}", f"{slug_first[0]}.{slug_last}"),
        (f"{first[0].lower()}{last.lower()}", f"{slug_first[0]}{slug_last}"),
        (first.lower(), slug_first),
        (last.lower(), slug_last),
    ):
        # not inside a domain ("@kessler-maschinenbau.de" stays the company's domain)
        raw = re.sub(rf"(?<![\w.@-]){re.escape(src)}(?![\w-])(?![^\s\"@]*\.[a-z]{{2,}}\")", _literal(dst), raw)
    for src, dst in ((first, new_first), (last, new_last)):
        raw = re.sub(rf"\b{re.escape(src)}\b", _literal(dst), raw)
    return Ticket.model_validate(json.loads(raw))


_NON_NATIVE = (
    (r"\bI'm\b", "I am"),
    (r"\bcan't\b", "cannot"),
    (r"\bdon't\b", "do not"),
    (r"\bit's\b", "it is"),
    (r"\bI've\b", "I have"),
    (r"\bwon't\b", "will not"),
    (r"\bdidn't\b", "did not"),
    (r"\b[Tt]he (?=\w)", ""),
    (r"\b[Aa]n? (?=\w)", ""),
    (r"\bI have\b", "I am having"),
    (r"\bcould you\b", "kindly"),
    (r"\bCould you\b", "Kindly"),
    (r"\bplease\b", "please kindly"),
    (r"\bThanks\b", "Thanking you"),
    (r"\bHi\b", "Dear sir/madam"),
)


def non_native(text: str) -> str:
    """Common features of non-native English: no contractions or articles, 'kindly', progressive."""
    for pattern, repl in _NON_NATIVE:
        text = re.sub(pattern, repl, text)
    return text
