"""The banner's HTML shell and its security headers. The shell holds no ticket data: banner.js
fetches everything with the session token, which the page reads from its URL fragment."""

from __future__ import annotations

from app.settings import Settings

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Deskguard</title>
<link rel="stylesheet" href="/banner/static/banner.css">
<script src="/banner/static/banner.js" defer></script>
</head>
<body>
<main id="banner" aria-live="polite" aria-busy="true">
<p id="status" class="status">Loading the risk assessment&hellip;</p>
</main>
</body>
</html>
"""


def render_page() -> str:
    return _PAGE


def page_headers(settings: Settings) -> dict[str, str]:
    ancestors = " ".join(["'self'", *settings.banner_frame_ancestors])
    csp = (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        f"base-uri 'none'; form-action 'none'; frame-ancestors {ancestors}"
    )
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
