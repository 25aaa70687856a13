"""`deskguard integrations package zendesk|freshdesk --out DIR` builds an uploadable zip."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from typer.testing import CliRunner

from app.cli import cli

runner = CliRunner()


def _build(provider: str, out: Path) -> zipfile.ZipFile:
    result = runner.invoke(cli, ["integrations", "package", provider, "--out", str(out)])
    assert result.exit_code == 0, result.output
    path = Path(result.output.strip().splitlines()[-1])
    assert path.parent == out and path.suffix == ".zip"
    return zipfile.ZipFile(path)


def test_zendesk_zip_has_a_valid_manifest(tmp_path: Path) -> None:
    with _build("zendesk", tmp_path) as zf:
        names = set(zf.namelist())
        assert {"manifest.json", "assets/iframe.html", "translations/en.json"} <= names
        manifest = json.loads(zf.read("manifest.json"))
        json.loads(zf.read("translations/en.json"))
        iframe = zf.read("assets/iframe.html").decode()
    assert manifest["signedUrls"] is True
    assert manifest["location"]["support"]["ticket_sidebar"]["url"] == "assets/iframe.html"
    params = {p["name"]: p for p in manifest["parameters"]}
    assert params["deskguard_url"]["type"] == "url" and params["deskguard_url"]["required"] is True
    assert params["banner_app_secret"]["secure"] is True
    assert "integration_id" in params
    assert "/v1/banner/app-session" in iframe and "{{setting.banner_app_secret}}" in iframe
    assert "innerHTML" not in iframe


def test_freshdesk_zip_and_unknown_provider(tmp_path: Path) -> None:
    with _build("freshdesk", tmp_path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        assert "app/index.html" in zf.namelist()
    assert manifest["product"]["freshdesk"]["location"]["ticket_sidebar"]["url"] == "index.html"
    bad = runner.invoke(cli, ["integrations", "package", "kayako", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "kayako" in bad.output
