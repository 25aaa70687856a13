"""The text of a ticket that the core analyses: subject and requester messages, normalized once.

Segments (the subject, then each requester message) are joined into one string so spaCy runs once
per ticket. Work is bounded: at most MAX_ANALYSED_CHARS of original text are read, newest
requester messages first. Quoted replies and forwarded mail are marked so detectors can tell what
the requester wrote from what they are quoting.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Literal

from app.core.assessment import Evidence
from app.core.textnorm import View, clean_view, fold_with_map
from app.core.ticket import Ticket

MAX_ANALYSED_CHARS = 20_000
SEPARATOR = "\n\n"

# A line that opens quoted or forwarded material; everything after it in the segment is quoted.
_QUOTE_OPENER = re.compile(
    r"^[ \t]*(?:-{2,}\s*(?:forwarded message|original message|mensaje (?:original|reenviado)|"
    r"message (?:d'origine|transféré)|ursprüngliche nachricht|weitergeleitete nachricht|"
    r"mensagem (?:original|encaminhada))\s*-{2,}|begin forwarded message:|"
    r"(?:on|le|am|el|em) [^\n]{4,200}(?:wrote|a écrit|schrieb|escribió|escreveu)\s*:|"
    r"from:[^\n]{1,300}\n(?:[^\n]{0,300}\n){0,3}?(?:sent|date|subject|to):)",
    re.I | re.M,
)
_QUOTED_LINE = re.compile(r"^[ \t]*>[^\n]*", re.M)
# A forwarded subject ("Fwd: ...", "TR: ...", "WG: ...", "RV: ...", "ENC: ...") is someone else's words.
_FORWARDED_SUBJECT = re.compile(r"^\s*(fwd?|tr|wg|rv|enc|i)\s*:", re.I)


@dataclass(frozen=True, slots=True)
class Segment:
    field: Literal["subject", "body"]
    message: int | None
    start: int  # offset of this segment in the joined original text
    end: int


@dataclass(frozen=True, slots=True)
class TicketText:
    original: str
    clean: View  # over `original`
    folded: str  # what rule packs match: lower case, accents, leetspeak and spaced-out letters folded
    folded_index: tuple[int, ...]  # per folded character, its index in clean.text
    segments: tuple[Segment, ...]
    quoted: tuple[tuple[int, int], ...]  # spans of `clean.text` that quote someone else
    truncated: bool = False

    @property
    def text(self) -> str:
        return self.clean.text

    def clean_span(self, start: int, end: int) -> tuple[int, int]:
        """A span of `folded` as a span of `clean.text`."""
        if start >= end:
            return self.folded_index[start] if start < len(self.folded_index) else len(self.clean.text), start
        return self.folded_index[start], self.folded_index[end - 1] + 1

    def in_quote(self, start: int) -> bool:
        return any(s <= start < e for s, e in self.quoted)

    def evidence(self, start: int, end: int) -> Evidence:
        """Clean-text span -> offsets into the original subject or message body."""
        o_start, o_end = self.clean.to_original(start, end)
        idx = max(0, bisect.bisect_right([s.start for s in self.segments], o_start) - 1)
        seg = self.segments[idx]
        o_end = min(o_end, seg.end)
        return Evidence(
            field=seg.field, message=seg.message, start=o_start - seg.start, end=max(o_start, o_end) - seg.start
        )


def _pieces(ticket: Ticket) -> tuple[list[tuple[Literal["subject", "body"], int | None, str]], bool]:
    """Subject then requester messages, newest kept first when over the budget (oldest dropped)."""
    budget = MAX_ANALYSED_CHARS
    truncated = False
    bodies: list[tuple[Literal["subject", "body"], int | None, str]] = []
    for index, message in reversed(ticket.requester_messages()):
        if not message.body.strip():
            continue
        if budget <= 0:
            truncated = True
            break
        body = message.body
        if len(body) > budget:
            body, truncated = body[:budget], True
        bodies.append(("body", index, body))
        budget -= len(body)
    bodies.reverse()
    subject = ticket.subject.strip()
    head: list[tuple[Literal["subject", "body"], int | None, str]] = []
    if subject:
        head.append(("subject", None, ticket.subject[:1000]))
    return head + bodies, truncated


def _quoted_spans(text: str) -> list[tuple[int, int]]:
    spans = [(m.start(), m.end()) for m in _QUOTED_LINE.finditer(text)]
    opener = _QUOTE_OPENER.search(text)
    if opener:
        spans.append((opener.start(), len(text)))
    return spans


def build_ticket_text(ticket: Ticket) -> TicketText:
    pieces, truncated = _pieces(ticket)
    parts: list[str] = []
    segments: list[Segment] = []
    pos = 0
    for field, message, body in pieces:
        if parts:
            parts.append(SEPARATOR)
            pos += len(SEPARATOR)
        segments.append(Segment(field=field, message=message, start=pos, end=pos + len(body)))
        parts.append(body)
        pos += len(body)
    original = "".join(parts)
    clean = clean_view(original)
    quoted: list[tuple[int, int]] = []
    for seg in segments:
        lo = bisect.bisect_left(clean.starts, seg.start)
        hi = bisect.bisect_left(clean.starts, seg.end)
        if seg.field == "subject":
            if _FORWARDED_SUBJECT.match(clean.text[lo:hi]):
                quoted.append((lo, hi))
            continue
        quoted.extend((lo + s, lo + e) for s, e in _quoted_spans(clean.text[lo:hi]))
    if not segments:
        segments.append(Segment(field="subject", message=None, start=0, end=0))
    folded, folded_index = fold_with_map(clean.text)
    return TicketText(
        original=original,
        clean=clean,
        folded=folded,
        folded_index=folded_index,
        segments=tuple(segments),
        quoted=tuple(quoted),
        truncated=truncated,
    )
