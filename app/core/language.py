"""Which languages a ticket is written in, from common function words: cheap and deterministic.

Rule packs run only for the languages a ticket uses (mixed tickets get several). Nothing here is a
general language identifier: it only chooses among the languages Deskguard ships packs for.
"""

from __future__ import annotations

import re
from collections import Counter

_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "the and is are to my i you it please can could have has for of this that with not was "
        "me your we our be will would just need hi hello thanks thank from what how do does".split()
    ),
    "es": frozenset(
        "el la los las que y en por para mi mis es no con una un se lo del al como pero hola gracias "
        "cuenta usted ustedes necesito puedo tengo soy estoy esta favor correo".split()
    ),
    "pt": frozenset(
        "o os as do da dos das em no na um uma que nao meu minha para com por voce voces obrigado "
        "obrigada conta ola preciso posso tenho sou estou isso pra favor ele ela".split()
    ),
    "fr": frozenset(
        "le la les de des du et je vous est pas pour que qui mon ma mes une un sur avec ce merci "
        "bonjour compte mais il elle nous votre ai suis".split()
    ),
    "de": frozenset(
        "der die das und ich ist nicht sie mit mein meine ein eine zu den dem fur bitte danke konto "
        "auf es wir ihr hallo habe bin kann mir mich".split()
    ),
}
_TOKEN = re.compile(r"[a-z]+")
_LANGS_OF_WORD: dict[str, tuple[str, ...]] = {}
for _lang, _words in _WORDS.items():
    for _word in _words:
        _LANGS_OF_WORD[_word] = (*_LANGS_OF_WORD.get(_word, ()), _lang)
MIN_SHARE = 0.25  # a language counts when it has at least this share of the top language's hits
SAMPLE_CHARS = 4000


def languages_of(folded: str, declared: str = "") -> frozenset[str]:
    """The languages of a folded (lower-case, accent-free) text, the declared one and English.

    English always runs: support tickets in every language borrow its words ("urgent", "2FA",
    "WhatsApp", "gift card"), and the other packs leave those words to the English pack.
    """
    hits: Counter[str] = Counter()
    for token in _TOKEN.findall(folded[:SAMPLE_CHARS]):
        for lang in _LANGS_OF_WORD.get(token, ()):
            hits[lang] += 1
    chosen = set()
    if hits:
        top = max(hits.values())
        chosen = {lang for lang, n in hits.items() if n >= max(2, MIN_SHARE * top)} or {hits.most_common(1)[0][0]}
    if declared[:2].lower() in _WORDS:
        chosen.add(declared[:2].lower())
    return frozenset(chosen | {"en"})
