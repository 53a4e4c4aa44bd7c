"""Sessions and CSRF for the account routes, as the sub-app's middleware.

Every POST must carry the session's CSRF token (form field `csrf` or header
`X-CSRF-Token`), and, when the browser names an Origin, come from Repobox's own public
URL; anything else is refused with 403 before a handler runs. Only this sub-app has the
check: Slack and webhooks sign their requests instead.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler

from handlers.dashboard.auth.context import SESSION, SessionSlot, context
from handlers.dashboard.auth.cookies import WebSession
from handlers.dashboard.errors import error_page

REFUSED = "This form has expired or did not come from Repobox. Reload the page and try again."


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _foreign(request: web.Request, public_url: str) -> str | None:
    """Why a POST's Origin is not Repobox's own (None when it is, or is not said)."""
    origin = request.headers.get("Origin")
    if origin is None or origin.lower() == _origin(public_url):
        return None
    return (
        f"This form did not come from Repobox's own pages at {_origin(public_url)} "
        "(REPOBOX_PUBLIC_URL); open Repobox there and try again."
    )


async def _csrf_ok(request: web.Request, session: WebSession) -> bool:
    sent = request.headers.get("X-CSRF-Token")
    if sent is None:
        sent = str((await request.post()).get("csrf", ""))
    return bool(sent) and hmac.compare_digest(sent.encode(), session.csrf.encode())


@web.middleware
async def sessions(request: web.Request, handler: Handler) -> web.StreamResponse:
    ctx = context(request)
    loaded = ctx.cookies.load(request)
    if loaded is not None and loaded.person_id and await ctx.revoked(loaded):
        loaded = None
    current = loaded or WebSession()
    request[SESSION] = SessionSlot(current)
    refusal = None
    if request.method == "POST":
        refusal = _foreign(request, ctx.settings.public_url)
        if refusal is None and not await _csrf_ok(request, current):
            refusal = REFUSED
    if refusal is not None:
        response: web.StreamResponse = error_page(403, refusal)
    else:
        response = await handler(request)
    final = request[SESSION].value
    if final is not loaded:
        ctx.cookies.store(response, final)
    return response
