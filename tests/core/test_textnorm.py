"""Evasion-resistant normalization: every view maps back to the exact original characters."""

from __future__ import annotations

import pytest

from app.core.textnorm import clean_view, fold
from app.core.ticket import Message, Ticket
from app.core.tickettext import build_ticket_text

CASES = [
    # (original, word that must appear in the folded text)
    ("please reset my pаssword", "password"),  # Cyrillic а
    ("please reset my pass\u200bword", "password"),  # zero-width space
    ("turn off my m\u200df\u200ca", "mfa"),  # zero-width joiners
    ("reset my p@ssw0rd", "password"),  # leetspeak
    ("ｒｅｓｅｔ my password", "reset"),  # full-width
    ("reset my 𝐩𝐚𝐬𝐬𝐰𝐨𝐫𝐝", "password"),  # mathematical bold
    ("\u202ereset\u202c my password", "reset"),  # bidi override
    ("<p>please <b>reset</b> my&nbsp;password</p>", "reset my password"),  # markup
    ("contraseña olvidada", "contrasena"),  # accents folded for matching
    ("pa\u0301ssword", "password"),  # stray combining mark
]


@pytest.mark.parametrize(("original", "word"), CASES)
def test_folded_text_reveals_the_word(original: str, word: str) -> None:
    view = clean_view(original)
    folded = fold(view.text)
    assert len(folded) == len(view.text)
    assert word in folded


@pytest.mark.parametrize(("original", "word"), CASES)
def test_offsets_map_back_to_the_original_characters(original: str, word: str) -> None:
    view = clean_view(original)
    folded = fold(view.text)
    start = folded.index(word.split()[0])
    o_start, o_end = view.to_original(start, start + len(word.split()[0]))
    surface = original[o_start:o_end]
    # the original span, once normalized again, is the same word
    assert fold(clean_view(surface).text).strip() == word.split()[0]


@pytest.mark.parametrize(
    "text",
    ["order ORD-12345 for $500", "call me on 415 555 0100", "jm.recovery@gmail.com", "Ceci est mon numéro"],
)
def test_ids_amounts_and_emails_are_not_leet_folded(text: str) -> None:
    folded = fold(clean_view(text).text)
    for token in ("12345", "500", "0100", "@gmail.com"):
        if token in text:
            assert token in folded


def test_real_cyrillic_text_is_left_alone() -> None:
    text = "Здравствуйте, не могу войти в аккаунт"
    assert clean_view(text).text == text


def test_evidence_points_into_the_right_message() -> None:
    ticket = Ticket(
        ticket_id="t",
        subject="Help",
        messages=[
            Message(author="requester", body="first message"),
            Message(author="agent", body="agent reply mentioning password"),
            Message(author="requester", body="please reset my pаss\u200bword"),
        ],
    )
    text = build_ticket_text(ticket)
    assert "agent reply" not in text.text  # agents' messages are not scored
    start = text.folded.index("password")
    ev = text.evidence(start, start + len("password"))
    assert (ev.field, ev.message) == ("body", 2)
    assert ticket.messages[2].body[ev.start : ev.end] == "pаss\u200bword"
    subject = text.evidence(0, 4)
    assert (subject.field, subject.message) == ("subject", None)
    assert ticket.subject[subject.start : subject.end] == "Help"


def test_quoted_and_forwarded_text_is_marked() -> None:
    body = "Is this email from you?\n\n---------- Forwarded message ---------\nURGENT: verify your password now"
    text = build_ticket_text(Ticket(ticket_id="t", messages=[Message(body=body)]))
    assert not text.in_quote(text.folded.index("is this"))
    assert text.in_quote(text.folded.index("urgent"))
    reply = "thanks\n> please reset your password\n> now"
    text = build_ticket_text(Ticket(ticket_id="t", messages=[Message(body=reply)]))
    assert text.in_quote(text.folded.index("please reset"))
    assert not text.in_quote(text.folded.index("thanks"))


def test_analysed_text_is_bounded_and_keeps_the_newest_messages() -> None:
    old = Message(body="old " * 10_000)
    new = Message(body="newest request: reset my password")
    text = build_ticket_text(Ticket(ticket_id="t", messages=[old, new]))
    assert len(text.original) <= 20_000 + 10
    assert "newest request" in text.text
    assert text.truncated


@pytest.mark.parametrize(
    ("text", "word"),
    [("reset my p a s s w o r d", "password"), ("turn off m.f.a now", "mfa"), ("r-e-s-e-t it", "reset")],
)
def test_spaced_out_letters_are_joined_and_mapped_back(text: str, word: str) -> None:
    tt = build_ticket_text(Ticket(ticket_id="t", messages=[Message(body=text)]))
    start = tt.folded.index(word)
    c_start, c_end = tt.clean_span(start, start + len(word))
    ev = tt.evidence(c_start, c_end)
    surface = text[ev.start : ev.end]
    assert surface.replace(" ", "").replace(".", "").replace("-", "").lower() == word


def test_ordinary_text_is_not_joined() -> None:
    tt = build_ticket_text(Ticket(ticket_id="t", messages=[Message(body="I am a big fan of U.S. sports")]))
    assert tt.folded == tt.text.lower()
