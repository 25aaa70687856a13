"""Lookalike domains: hosts made to pass for one of the tenant's own domains.

``lookalike_of(domain, own_domains)`` compares a host (or an email address's domain) with the
tenant's own registrable domains and names the technique, most specific first:

- ``confusable``: the registrable label reads the same once look-alike characters are folded
  (Cyrillic/Greek homoglyphs, ``rn``->``m``, ``vv``->``w``, ``0``->``o``, ``1``/``l``->``i``, ...):
  ``acrne.com``, ``acme-c0rp.com`` for ``acme-corp.com``. ``distance`` is the raw edit distance.
- ``tld_swap``: the same label under another suffix: ``acme.co``, ``acme.net``, ``acme.com.co``.
  ``distance`` is 0.
- ``edit_distance``: Damerau-Levenshtein (optimal string alignment) on the registrable label, at
  most 1 for own labels of 4-7 characters, at most 2 for 8 or more, never under 4.
- ``added_word``: the own label (4+ characters) inside a longer label, with or without a hyphen:
  ``acme-support.com``, ``myacme.com``. ``distance`` is the number of characters added.
- ``subdomain_trick``: the own name placed left of somebody else's registrable domain:
  ``acme.com.security-check.io``, ``acme-com.evil.io``, ``acme.evil.io``. ``distance`` is 0.

The own domains and their subdomains (``support.acme.com``) are never flagged. Pure and fast: the
own list is small and every comparison is on labels of at most 63 characters.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass

from app.core.confusables import CONFUSABLES
from app.core.entities import email_domain, registrable_domain, url_host

TECHNIQUES: tuple[str, ...] = ("confusable", "tld_swap", "edit_distance", "added_word", "subdomain_trick")
_RANK = {name: rank for rank, name in enumerate(TECHNIQUES)}

_FOLD = str.maketrans({k: v.lower() for k, v in CONFUSABLES.items()})
_LOOKS = str.maketrans("01l|!357849", "oiiiiestabg")


@dataclass(frozen=True, slots=True)
class Lookalike:
    """``own`` is the tenant domain imitated; ``technique`` one of ``TECHNIQUES``."""

    own: str
    technique: str
    distance: int


@dataclass(frozen=True, slots=True)
class _Name:
    host: str  # as written, lower case, IDN decoded
    registrable: str
    label: str  # registrable label as written
    folded: str  # registrable label with homoglyphs folded to ASCII
    suffix: str
    subdomain: str  # the part left of the registrable domain, homoglyphs folded


def _host(domain: str) -> str:
    s = domain.strip()
    if "://" in s[:10]:
        s = url_host(s)
    elif "@" in s:
        s = email_domain(s)
    s = s.lower().rstrip(".")
    if "xn--" in s:
        with contextlib.suppress(UnicodeError):
            s = s.encode("ascii").decode("idna")
    return s


def _name(domain: str) -> _Name | None:
    host = _host(domain)
    if "." not in host or host.replace(".", "").isdigit():
        return None
    registrable = registrable_domain(host)
    label, _, suffix = registrable.partition(".")
    subdomain = host[: -len(registrable)].rstrip(".").translate(_FOLD)
    return _Name(host, registrable, label, label.translate(_FOLD), suffix, subdomain)


def skeleton(label: str) -> str:
    """How a label reads: homoglyphs folded, then ``rn``->``m``, ``vv``->``w``, digits to letters."""
    folded = label.lower().translate(_FOLD).replace("rn", "m").replace("vv", "w")
    return folded.translate(_LOOKS)


def damerau_levenshtein(a: str, b: str, limit: int = 64) -> int:
    """Optimal-string-alignment distance; returns ``limit + 1`` as soon as it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def _technique(cand: _Name, own: _Name) -> tuple[str, int] | None:
    own_label, own_skel = own.label, skeleton(own.label)
    if cand.label != own_label and skeleton(cand.label) == own_skel:
        return "confusable", damerau_levenshtein(cand.label, own_label)
    if cand.label == own_label:
        return ("tld_swap", 0) if cand.suffix != own.suffix else None
    if len(own_label) >= 4:
        limit = 1 if len(own_label) <= 7 else 2
        distance = damerau_levenshtein(cand.folded, own_label, limit)
        if 1 <= distance <= limit:
            return "edit_distance", distance
        flat, own_flat = cand.folded.replace("-", ""), own_label.replace("-", "")
        if own_flat in flat or own_skel in skeleton(cand.label):
            return "added_word", len(cand.label) - len(own_label)
    if cand.subdomain and _names_own(cand.subdomain, own):
        return "subdomain_trick", 0
    return None


def _names_own(subdomain: str, own: _Name) -> bool:
    """The own domain (or, for labels of 4+ characters, the own label) written in a subdomain."""
    padded = f".{subdomain.replace('-', '.')}."
    if f".{own.registrable}." in padded or f".{own.registrable}." in f".{subdomain}.":
        return True
    if len(own.label) < 4:
        return False
    tokens = {tok for tok in padded.split(".") if tok}
    return own.label in tokens or skeleton(own.label) in {skeleton(tok) for tok in tokens}


def _own_names(own_domains: Iterable[str]) -> list[_Name]:
    names = (_name(registrable_domain(_host(d))) for d in own_domains)
    return [n for n in names if n is not None]


def _order(hit: Lookalike) -> tuple[int, int, int]:
    """Most specific technique, then closest, then the longest own domain (acme-corp.com over acme.com)."""
    return _RANK[hit.technique], hit.distance, -len(hit.own)


def _match(cand: _Name, owns: list[_Name]) -> Lookalike | None:
    if any(cand.host == o.registrable or cand.host.endswith("." + o.registrable) for o in owns):
        return None
    best: Lookalike | None = None
    for own in owns:
        found = _technique(cand, own)
        if found is None:
            continue
        hit = Lookalike(own.registrable, found[0], found[1])
        if best is None or _order(hit) < _order(best):
            best = hit
    return best


def lookalike_of(domain: str, own_domains: Iterable[str]) -> Lookalike | None:
    """How ``domain`` (a host, URL or email address) imitates one of ``own_domains``, if it does."""
    cand = _name(domain)
    return None if cand is None else _match(cand, _own_names(own_domains))


def lookalikes_in(domains: Iterable[str], own_domains: Iterable[str]) -> list[tuple[str, Lookalike]]:
    """``(host, lookalike)`` for each distinct host in ``domains`` that imitates an own domain."""
    owns = _own_names(own_domains)
    seen: set[str] = set()
    out: list[tuple[str, Lookalike]] = []
    for domain in domains:
        cand = _name(domain)
        if cand is None or cand.host in seen:
            continue
        seen.add(cand.host)
        hit = _match(cand, owns)
        if hit is not None:
            out.append((cand.host, hit))
    return out
