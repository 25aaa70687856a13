"""Build the helpdesk app packages an admin uploads: `deskguard integrations package zendesk --out DIR`."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Final

from app.errors import InvalidInput

APPS_DIR: Final = Path(__file__).resolve().parents[2] / "integrations"
SOURCES: Final[dict[str, str]] = {"zendesk": "zendesk_app", "freshdesk": "freshdesk_app"}


def build_package(provider: str, out_dir: Path) -> Path:
    """Zip the app folder (manifest.json at the zip's root) into `out_dir`; returns the zip's path."""
    if provider not in SOURCES:
        raise InvalidInput(f"no app package for {provider!r}; choose one of {sorted(SOURCES)}", code="unknown_provider")
    source = APPS_DIR / SOURCES[provider]
    manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))  # refuse invalid JSON early
    version = str(manifest.get("version", "1.0.0"))
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"deskguard-{provider}-app-{version}.zip"
    files = sorted(p for p in source.rglob("*") if p.is_file() and p.name != ".DS_Store")
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            zf.write(path, path.relative_to(source).as_posix())
    return target
