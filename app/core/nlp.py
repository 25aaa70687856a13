"""spaCy, wrapped once. Only the components the detectors read are loaded.

The detectors need named entities (PERSON, ORG, GPE, MONEY) and nothing from the tagger, parser or
lemmatizer, so only `ner` runs (it has its own tok2vec in en_core_web_sm). Contacts are found by
compiled regexes and lexicons by rule packs, not by token-pattern rulers. The model comes from the
installed package; nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from app.errors import ConfigError

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

UNUSED_COMPONENTS = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter", "morphologizer")
BATCH_SIZE = 64


class NlpEngine:
    def __init__(self, model: str) -> None:
        import spacy

        if not spacy.util.is_package(model):
            raise ConfigError(f"spaCy model package {model!r} is not installed (run 'make install')")
        try:
            self.nlp: Language = spacy.load(model, exclude=list(UNUSED_COMPONENTS))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"spaCy model {model!r} cannot be loaded: {exc}") from exc
        meta = self.nlp.meta
        self.name = f"{meta.get('lang', 'xx')}_{meta.get('name', model)}@{meta.get('version', '?')}"
        self.components = tuple(self.nlp.pipe_names)

    def __call__(self, text: str) -> Doc:
        return self.nlp(text)

    def pipe(self, texts: Iterable[str], batch_size: int = BATCH_SIZE) -> Iterator[Doc]:
        return self.nlp.pipe(texts, batch_size=batch_size)
