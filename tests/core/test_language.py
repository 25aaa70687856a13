"""Choosing which rule packs run: the languages a ticket is written in."""

from __future__ import annotations

import pytest

from app.core.language import languages_of
from app.core.textnorm import clean_view, fold


def langs(text: str, declared: str = "") -> list[str]:
    return sorted(languages_of(fold(clean_view(text).text), declared))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I lost my phone, please reset my two-factor and send the code to this number", ["en"]),
        ("Hola, perdí mi teléfono y necesito cambiar el correo de mi cuenta, por favor", ["en", "es"]),
        ("Olá, perdi o chip e preciso trocar o email da minha conta, por favor", ["en", "pt"]),
        ("Bonjour, je ne peux pas me connecter à mon compte, merci de réinitialiser le mot de passe", ["en", "fr"]),
        ("Hallo, ich habe mein Handy verloren, bitte setzen Sie mein Passwort zurück", ["de", "en"]),
        ("Hi, soy Ana. I need help con mi cuenta please, the app is not working", ["en", "es"]),
    ],
)
def test_languages_of_everyday_tickets(text: str, expected: list[str]) -> None:
    assert langs(text) == expected


def test_declared_language_and_english_are_always_included() -> None:
    assert langs("ok", "pt-BR") == ["en", "pt"]
    assert langs("12345 ???") == ["en"]
    assert "es" not in langs("I lost my phone and need to change the email on my account")
