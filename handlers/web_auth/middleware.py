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

from handlers.web_auth.context import SESSION, SessionSlot, context
from handlers.web_auth.session import WebSession

REFUSED = "This form has expired or did not come from Repobox. Reload the page and try again."


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


async def _csrf_ok(request: web.Request, session: WebSession, public_url: str) -> bool:
    origin = request.headers.get("Origin")
    if origin is not None and origin.lower() != _origin(public_url):
        return False
    sent = request.headers.get("X-CSRF-Token")
    if sent is None:
        sent = str((await request.post()).get("csrf", ""))
    return bool(sent) and hmac.compare_digest(sent.encode(), session.csrf.encode())


@web.middleware
async def sessions(request: web.Request, handler: Handler) -> web.StreamResponse:
    ctx = context(request)
    loaded = ctx.cookies.load(request)
    if loaded is not None and loaded.person_id and ctx.revoked(loaded):
        loaded = None
    current = loaded or WebSession()
    request[SESSION] = SessionSlot(current)
    if request.method == "POST" and not await _csrf_ok(request, current, ctx.settings.public_url):
        response: web.StreamResponse = web.Response(
            status=403, text=REFUSED, headers={"Cache-Control": "no-store"}
        )
    else:
        response = await handler(request)
    final = request[SESSION].value
    if final is not loaded:
        ctx.cookies.store(response, final)
    return response
