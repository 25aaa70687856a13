"""Reading untrusted vendor JSON: typed lookups that fail with the path, and HTML bodies as text.

HTML is read with the standard library's tokenizer into plain text; nothing in it is fetched or
followed. Deskguard's own notes carry a marker so that their echo never gets assessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any

from integrations.protocol import PayloadError

NOTE_MARKER_PREFIX = "deskguard-assessment:"
_BLOCK_TAGS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"})
_SKIP_TAGS = frozenset({"script", "style", "head", "title"})


def dig(payload: Any, path: str) -> Any:
    """payload["a"]["b"]... for "a.b"; None when any step is missing or not an object."""
    node = payload
    for key in path.split("."):
        if isinstance(node, Mapping) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return None
    return node


def text_at(payload: Any, path: str, *, required: bool = False) -> str:
    """A string (or number, as text) at `path`; "" when absent, PayloadError when required."""
    value = dig(payload, path)
    if value is None or value == "":
        if required:
            raise PayloadError(f"`{path}` is missing", code="payload_invalid")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PayloadError(f"`{path}` should be text, not {type(value).__name__}", code="payload_invalid")
    return str(value)


def object_at(payload: Any, path: str, *, required: bool = False) -> Mapping[str, Any]:
    value = dig(payload, path)
    if value is None:
        if required:
            raise PayloadError(f"`{path}` is missing", code="payload_invalid")
        return {}
    if not isinstance(value, Mapping):
        raise PayloadError(f"`{path}` should be an object", code="payload_invalid")
    return value


def list_at(payload: Any, path: str) -> list[Any]:
    value = dig(payload, path)
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"`{path}` should be a list", code="payload_invalid")
    return value


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS and self._skip:
            self._skip -= 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment, with block elements as line breaks."""
    if "<" not in html and "&" not in html:
        return html.strip()
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def is_deskguard_note(text: str) -> bool:
    """True for the text of a note Deskguard wrote (its echo must never be assessed)."""
    return NOTE_MARKER_PREFIX in text


def tags_of(value: Any) -> list[str]:
    """Tags given as a list or as one space/comma separated string."""
    if isinstance(value, list):
        return [str(t).strip() for t in value if str(t).strip()][:200]
    if isinstance(value, str):
        return [t for t in re.split(r"[\s,]+", value) if t][:200]
    return []
