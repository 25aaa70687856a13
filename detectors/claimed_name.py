"""Claimed name: a self-introduction naming someone other than the account holder on file.

Uses spaCy's PERSON entities, so names from any culture are read the same way; the comparison is
by tokens after folding case and accents, and a relation (parent, assistant, on behalf of) is not
a mismatch.
"""

from __future__ import annotations

import re

from app.core.textnorm import fold
from detectors.protocol import Analysis, Findings, Hit

NAME = "claimed_name"
_INTRO = re.compile(
    r"(this is|my name is|i am|i'm|im|it's|its|name's|me llamo|je m'appelle|ich heisse|meu nome e)\s*$"
)


def _tokens(name: str) -> set[str]:
    return {t for t in re.split(r"[^\w]+", fold(name)) if len(t) > 1}


class ClaimedNameDetector:
    name = NAME

    def detect(self, analysis: Analysis, prior: Findings) -> Findings:
        account = analysis.context.account
        out = Findings()
        if analysis.doc is None or account is None or not account.name.strip():
            return out
        if any(h.id.endswith(".guardian") for h in prior.hits):
            return out
        on_file = _tokens(account.name)
        clean = analysis.text.text
        for ent in analysis.doc.ents:
            if ent.label_ != "PERSON" or analysis.text.in_quote(ent.start_char):
                continue
            before = fold(clean[max(0, ent.start_char - 20) : ent.start_char]).rstrip(" ,:")
            if not _INTRO.search(before):
                continue
            if sum(w[:1].isupper() for w in ent.text.split()) < 2:
                continue  # a full name, not a stray capitalised word the English model misread
            claimed = _tokens(ent.text)
            if claimed and not claimed & on_file:
                out.hits.append(
                    Hit(
                        id="builtin.identity.claimed_name_differs",
                        detector=NAME,
                        tactic="claimed_identity",
                        weight=10,
                        explanation="Introduces themself by a name that is not the account holder's",
                        evidence=(analysis.evidence(ent.start_char, ent.end_char),),
                    )
                )
                break
        return out
