"""Every page the dashboard and the account pages answer with: a template on the shared
layout (handlers/common/ui), and the security headers that go with it.

One policy for all of them: scripts, styles and images only from Repobox itself (no inline
script or style anywhere), nothing framed, no Referer to other sites. The account pages
leave out `form-action`: signing in posts to us and is redirected on to GitHub or GitLab,
which Chromium checks against `form-action` too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from handlers.common.ui.render import render

TEMPLATES = Path(__file__).resolve().parent / "templates"
_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Cache-Control": "no-store",
    # same-origin, not no-referrer: under no-referrer Chromium sends `Origin: null` with a
    # form's POST, which the CSRF middleware's origin check refuses; other sites get nothing.
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": _POLICY,
}
DASHBOARD_HEADERS = {**HEADERS, "Content-Security-Policy": f"{_POLICY}; form-action 'self'"}


def html(name: str, **values: Any) -> str:
    return render(name, (TEMPLATES,), **values)


def page(
    name: str, *, status: int = 200, headers: dict[str, str] | None = None, **values: Any
) -> web.Response:
    """The template `name` as a whole page."""
    return web.Response(
        text=html(name, **values),
        content_type="text/html",
        status=status,
        headers=headers or DASHBOARD_HEADERS,
    )
