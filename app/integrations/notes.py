"""The note, tags and field value Deskguard writes back for one assessment.

Built once when the write-back is enqueued and stored with it, so a retry days later writes exactly
what the agent would have seen then. Everything shown is escaped for the HTML form.
"""

from __future__ import annotations

import html
from dataclasses import asdict
from typing import Any

from app.core.assessment import Assessment
from app.core.vocabulary import LEVELS
from integrations.payload import NOTE_MARKER_PREFIX
from integrations.protocol import Note

TAG_PREFIX = "deskguard"
_LEVEL_TITLE = {"low": "Low", "medium": "Medium", "high": "High", "critical": "Critical"}


def level_tag(level: str) -> str:
    return f"{TAG_PREFIX}-{level}"


def build_note(assessment: Assessment) -> Note:
    level = assessment.level
    marker = f"{NOTE_MARKER_PREFIX}{assessment.assessment_id}"
    reasons = tuple(assessment.banner.reasons)
    steps = tuple(s.label for s in assessment.required_steps if s.status == "pending")
    forbidden = tuple(assessment.forbidden)
    title = f"Deskguard: {_LEVEL_TITLE[level]} risk ({assessment.score}/100)"
    lines = [title, assessment.banner.headline]
    blocks: list[tuple[str, tuple[str, ...]]] = [
        ("Why", reasons),
        ("Before acting, complete", steps),
        ("Never", forbidden),
    ]
    for heading, items in blocks:
        if items:
            lines.append("")
            lines.append(f"{heading}:")
            lines.extend(f"- {item}" for item in items)
    lines += ["", marker]
    parts = [f"<p><strong>{html.escape(title)}</strong><br>{html.escape(assessment.banner.headline)}</p>"]
    for heading, items in blocks:
        if items:
            listed = "".join(f"<li>{html.escape(item)}</li>" for item in items)
            parts.append(f"<p>{html.escape(heading)}:</p><ul>{listed}</ul>")
    parts.append(f"<p><small>{html.escape(marker)}</small></p>")
    return Note(
        assessment_id=assessment.assessment_id,
        marker=marker,
        level=level,
        score=assessment.score,
        headline=assessment.banner.headline,
        reasons=reasons,
        steps=steps,
        forbidden=forbidden,
        tags=(TAG_PREFIX, level_tag(level)),
        stale_tags=tuple(level_tag(other) for other in LEVELS if other != level),
        text="\n".join(lines),
        html="".join(parts),
    )


def note_to_json(note: Note) -> dict[str, Any]:
    return asdict(note)


def note_from_json(value: dict[str, Any]) -> Note:
    fields = dict(value)
    for key in ("reasons", "steps", "forbidden", "tags", "stale_tags"):
        fields[key] = tuple(fields.get(key, ()))
    return Note(**fields)
