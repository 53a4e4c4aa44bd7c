"""The session page as one workspace: log, changes, checks, comparison, merge request state,
and (from the dashboard) the actions and the prompt composer.

One renderer for both ways in. The signed link a surface posts (`handlers/live/page.py`)
renders it read-only (`actions=False`): whoever holds the link may watch, not act. The
dashboard (`handlers/dashboard/routes.py`) renders it for a signed-in person with rights,
with the toolbar and the composer, which post to `actions_url` with the CSRF token. The
page's data is one JSON snapshot in a `<script type="application/json">` (no inline script
runs under the CSP); `session.js` and its panels follow the event stream from there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handlers.common.ui.render import render

TEMPLATES = Path(__file__).resolve().parent / "templates"
# The dashboard's workspace: the same CSP as the signed page's, but its forms and fetches
# post back to us, and its Referer stays same-origin for the CSRF check's Origin.
DASHBOARD_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'",
}
NOUNS = {"github": ("pull request", "#"), "gitlab": ("merge request", "!")}


@dataclass(frozen=True)
class Actions:
    """What the dashboard hands the workspace so its buttons can post."""

    url: str  # the session's actions, `{url}/ship` and so on
    csrf: str
    admin: bool = False
    message: str | None = None  # what the last full-page action left to say


def merge_request(card: dict[str, Any], prompts: list[dict[str, Any]]) -> dict[str, Any]:
    """The MR/PR as people read it: not pushed, pushed without one yet, or open with a link.

    "Pushed" comes from the session's state or a finished ship in its history, so a pushed
    session running a later prompt still reads as pushed (session.js applies the same rule
    to what streams in)."""
    noun, mark = NOUNS.get(card["provider"], ("merge request", "!"))
    shipped = card["state"] == "pushed" or any(
        p["action"] == "ship" and p["state"] == "done" for p in prompts
    )
    phase = "open" if card["mr_url"] else "pushed" if shipped else "none"
    return {"phase": phase, "noun": noun, "mark": mark}


def render_workspace(snapshot: dict[str, Any], actions: Actions | None = None) -> str:
    """The page's HTML; `actions` None: the read-only view of a signed link."""
    card = snapshot["session"]
    snapshot = {**snapshot, "mr": merge_request(card, snapshot["prompts"])}
    snapshot["actions"] = actions is not None
    created = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(card["created_at"]))
    return render(
        "session.html",
        [TEMPLATES],
        card=card,
        mr=snapshot["mr"],
        created=created,
        actions=actions,
        snapshot=snapshot,  # `tojson` in the template: "<", ">" and "&" as \u escapes
    )
