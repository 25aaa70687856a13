"""Evaluation reports: a table for the terminal, a JSON file, and an HTML page with plots (inline SVG)."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.core.vocabulary import LEVELS
from app.evaluation import metrics
from app.evaluation.metrics import Scored


def build(items: Sequence[Scored], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "summary": metrics.summary(items),
        "by_language": metrics.breakdown(items, lambda s: s.language),
        "by_group": metrics.breakdown(items, lambda s: s.group),
        "actions": metrics.action_scores(items),
        "confusion_by_level": metrics.confusion_by_level(items),
        "roc_curve": metrics.roc_curve(items),
        "scores": {
            "attack": [s.score for s in items if s.label == "attack"],
            "benign": [s.score for s in items if s.label == "benign"],
        },
        "worst_misses": [
            {
                "id": s.id,
                "label": s.label,
                "score": s.score,
                "level": s.level,
                "language": s.language,
                "group": s.group,
                "signals": list(s.top_signals),
                "actions": list(s.actions),
            }
            for s in metrics.worst_misses(items)
        ],
        **(extra or {}),
    }


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def table(report: dict[str, Any]) -> str:
    cols = ("cases", "attacks", "benign", "recall_high", "fpr_high", "roc_auc", "action_recall")
    lines = [f"{'':24}" + "".join(f"{c:>14}" for c in cols)]
    rows = [("all", report["summary"])]
    rows += [(f"lang {k}", v) for k, v in report["by_language"].items()]
    rows += [(f"group {k}"[:24], v) for k, v in report["by_group"].items()]
    for name, row in rows:
        lines.append(f"{name:24}" + "".join(f"{_fmt(row.get(c)):>14}" for c in cols))
    if report["worst_misses"]:
        lines.append("\nworst misses:")
        for m in report["worst_misses"]:
            lines.append(f"  {m['label']:7} {m['score']:3} {m['level']:8} {m['id'][:48]:48} {' '.join(m['signals'])}")
    return "\n".join(lines)


def write_json(report: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(report, indent=2, sort_keys=True), encoding="utf-8")


def _histogram_svg(scores: dict[str, list[int]]) -> str:
    w, h, bins = 520, 200, 20
    counts = {k: [0] * bins for k in scores}
    for k, vals in scores.items():
        for v in vals:
            counts[k][min(bins - 1, v * bins // 101)] += 1
    top = max([max(c) for c in counts.values() if c] + [1])
    colours = {"attack": "#b42318", "benign": "#1d4ed8"}
    parts = [f'<svg viewBox="0 0 {w} {h + 30}" role="img" aria-label="Score distribution by label">']
    bw = w / bins
    for k, c in counts.items():
        offset = 0 if k == "attack" else bw / 2
        for i, n in enumerate(c):
            bh = n / top * h
            parts.append(
                f'<rect x="{i * bw + offset:.1f}" y="{h - bh:.1f}" width="{bw / 2 - 1:.1f}" '
                f'height="{bh:.1f}" fill="{colours.get(k, "#555")}"><title>{k} {i * 5}-{i * 5 + 4}: '
                f"{n}</title></rect>"
            )
    for t in (0, 25, 50, 75, 100):
        parts.append(f'<text x="{t / 100 * w:.0f}" y="{h + 18}" font-size="11">{t}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _roc_svg(curve: list[list[float]] | list[tuple[float, float, int]]) -> str:
    s = 220
    pts = " ".join(f"{fpr * s:.1f},{s - tpr * s:.1f}" for fpr, tpr, _ in curve)
    return (
        f'<svg viewBox="-30 -10 {s + 40} {s + 40}" role="img" aria-label="ROC curve">'
        f'<rect width="{s}" height="{s}" fill="none" stroke="#999"/>'
        f'<line x1="0" y1="{s}" x2="{s}" y2="0" stroke="#ccc" stroke-dasharray="4"/>'
        f'<polyline points="{pts}" fill="none" stroke="#b42318" stroke-width="2"/>'
        f'<text x="{s / 2 - 40}" y="{s + 25}" font-size="11">false-positive rate</text>'
        f'<text x="-25" y="{s / 2}" font-size="11" transform="rotate(-90 -25 {s / 2})">recall</text></svg>'
    )


def _rows(data: dict[str, dict[str, Any]], cols: Sequence[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ("", *cols))
    body = "".join(
        "<tr><th>" + html.escape(k) + "</th>" + "".join(f"<td>{_fmt(v.get(c))}</td>" for c in cols) + "</tr>"
        for k, v in data.items()
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_html(report: dict[str, Any], path: Path, title: str = "Deskguard detection quality") -> None:
    cols = ("cases", "attacks", "benign", "recall_high", "fpr_high", "roc_auc", "action_recall")
    confusion = {
        label: {lv: report["confusion_by_level"].get(label, {}).get(lv, 0) for lv in LEVELS}
        for label in ("attack", "benign")
    }
    misses = "".join(
        f"<tr><td>{html.escape(m['label'])}</td><td>{m['score']}</td><td>{html.escape(m['level'])}</td>"
        f"<td>{html.escape(m['id'])}</td><td>{html.escape(' '.join(m['signals']))}</td></tr>"
        for m in report["worst_misses"]
    )
    extra = "".join(
        f"<h2>{html.escape(k)}</h2><pre>{html.escape(json.dumps(report[k], indent=2))}</pre>"
        for k in ("fairness", "evasion", "targets")
        if k in report
    )
    page = f"""<!doctype html><html lang="en"><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{html.escape(title)}</title>
<style>body{{font:14px system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#111}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}
th{{background:#f3f4f6}}svg{{max-width:560px;display:block}}.k{{display:inline-block;width:12px;height:12px}}</style>
<h1>{html.escape(title)}</h1>
<h2>Summary</h2>{_rows({"all": report["summary"]}, cols)}
<h2>By language</h2>{_rows(report["by_language"], cols)}
<h2>By group</h2>{_rows(report["by_group"], cols)}
<h2>Score distributions</h2><p><span class="k" style="background:#b42318"></span> attack
<span class="k" style="background:#1d4ed8"></span> benign</p>{_histogram_svg(report["scores"])}
<h2>ROC curve (AUC {_fmt(report["summary"]["roc_auc"])})</h2>{_roc_svg(report["roc_curve"])}
<h2>Confusion by level</h2>{_rows(confusion, LEVELS)}
<h2>Requested actions</h2>{_rows(report["actions"], ("precision", "recall", "support"))}
<h2>Worst misses</h2><table><tr><th>label</th><th>score</th><th>level</th><th>case</th><th>signals</th></tr>
{misses}</table>{extra}</html>"""
    path.write_text(page, encoding="utf-8")
