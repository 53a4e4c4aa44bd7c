"""Signing in through the configured OpenID Connect provider (`bot.identity.oidc`).

The person is found by their subject at the provider (an `oidc` identity), created on first
sight, as a GitHub or GitLab sign-in does; they link their forge accounts on the settings
page as anyone does. The request in flight (state, nonce, PKCE verifier) is kept in the
sealed session cookie, and signing in starts a fresh session (a new CSRF token).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from aiohttp import web

from bot.core.errors import UpstreamError, UserError
from bot.identity import oidc
from bot.identity.people import Identity, IdentityKind
from handlers.dashboard.auth.context import context, keep, redirect, session
from handlers.dashboard.auth.signin import DASHBOARD, SIGNIN

log = logging.getLogger(__name__)


def _app(request: web.Request) -> oidc.OidcApp:
    app = context(request).oidc
    if app is None:
        raise web.HTTPNotFound(text="Sign-in through OpenID Connect is not configured.")
    return app


async def start(request: web.Request) -> web.Response:
    app, current = _app(request), session(request)
    try:
        found = await asyncio.to_thread(oidc.discover, app)
    except UpstreamError as error:
        keep(request, current.with_notice(str(error)))
        return redirect(SIGNIN)
    url, pending = oidc.begin(app, found, context(request).oidc_callback_url)
    keep(request, replace(current, oidc=pending))
    return redirect(url)


async def callback(request: web.Request) -> web.Response:
    app, ctx, current = _app(request), context(request), session(request)
    pending = current.oidc
    if pending is None:
        keep(request, current.with_notice("That sign-in has expired; try again."))
        return redirect(SIGNIN)
    try:
        found = await asyncio.to_thread(oidc.discover, app)
        claims = await asyncio.to_thread(oidc.finish, app, found, pending, dict(request.query))
        person = await ctx.accounts.person_for(
            Identity(IdentityKind.OIDC, claims.subject), claims.name
        )
    except (UserError, UpstreamError) as error:
        log.info("an OpenID Connect sign-in was refused: %s", error)
        keep(request, replace(current, oidc=None, notice=str(error)))
        return redirect(SIGNIN)
    log.info("person %s signed in through OpenID Connect", person.id)
    signed = current.signed_in(person.id)
    note = f"Signed in with {app.name} as {claims.email or claims.name}."
    keep(request, replace(signed, oidc=None, notice=note, after=None))
    return redirect(current.after or DASHBOARD)
