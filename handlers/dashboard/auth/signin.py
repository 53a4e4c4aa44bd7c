"""Signing in and out: OAuth with GitHub or GitLab, or a one-time link.

The OAuth callback serves both "sign in" and "link another account": the request in
flight (kept in the sealed cookie) says which. Signing in starts a fresh session (new
CSRF token), so a session id planted before sign-in is worth nothing after it. Signing in
goes on to the dashboard, or to the dashboard page that sent the person to sign in
(`?next=`, held to a dashboard path so no link can send anyone elsewhere).
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import replace

from aiohttp import web

from bot.core.errors import UpstreamError, UserError
from bot.identity import signin_links
from bot.identity.oauth import begin, finish
from bot.identity.people import Credential, Identity, IdentityKind, Provider, Source
from bot.identity.tokens import inspect
from handlers.dashboard.auth import pages
from handlers.dashboard.auth.context import context, keep, redirect, session

log = logging.getLogger(__name__)
SETTINGS = "/account/settings"
SIGNIN = "/account/signin"
DASHBOARD = "/dashboard/"
_NEXT = re.compile(
    r"^(?:/dashboard/(?:[A-Za-z0-9_-]+/?)*(?:\?[A-Za-z0-9_=&%.+-]*)?|/account/settings)$"
)


def safe_next(value: str | None) -> str | None:
    """`value` if it is a dashboard page of ours (never another site, never `//host`)."""
    return value if value and len(value) < 500 and _NEXT.match(value) else None


def configured(request: web.Request) -> Provider:
    """The provider the path names, if Repobox has an OAuth app for it; else 404."""
    try:
        provider = Provider(request.match_info["provider"])
    except ValueError:
        raise web.HTTPNotFound(text="No such host.") from None
    if provider not in context(request).apps:
        raise web.HTTPNotFound(text="Sign-in with that host is not configured.")
    return provider


def start_oauth(request: web.Request, provider: Provider, intent: str) -> web.Response:
    ctx = context(request)
    url, pending = begin(ctx.apps[provider], ctx.callback_url(provider), intent)
    keep(request, replace(session(request), pending=pending))
    return redirect(url)


async def signin_page(request: web.Request) -> web.Response:
    current = session(request)
    after = safe_next(request.query.get("next")) or current.after
    if current.person_id:
        return redirect(after or DASHBOARD)
    keep(request, current.with_notice(None).with_after(after))
    ctx = context(request)
    oidc = ctx.oidc.name if ctx.oidc else None
    return pages.signin(ctx.apps.values(), current.csrf, current.notice, oidc)


async def signin_start(request: web.Request) -> web.Response:
    return start_oauth(request, configured(request), "signin")


async def callback(request: web.Request) -> web.Response:
    ctx, current = context(request), session(request)
    provider = configured(request)
    pending = current.pending
    back = SETTINGS if current.person_id else SIGNIN
    if pending is None or pending.provider is not provider:
        keep(request, replace(current, pending=None, notice="That sign-in has expired; try again."))
        return redirect(back)
    app = ctx.apps[provider]
    try:
        granted = await asyncio.to_thread(finish, app, pending, dict(request.query))
        info = await asyncio.to_thread(inspect, ctx.settings, provider, granted.token)
        credential = Credential(
            provider, granted.token, info.login, info.scopes or granted.scopes, Source.OAUTH
        )
        if pending.intent == "link" and current.person_id:
            person_id = current.person_id
        else:
            identity = Identity.forge(provider, info.login)
            person_id = (await ctx.accounts.person_for(identity, info.name)).id
        if pending.intent == "link":  # a sign-in token says who you are, and no more
            await ctx.accounts.save_credential(person_id, credential)
    except (UserError, UpstreamError) as error:
        keep(request, replace(current, pending=None, notice=str(error)))
        return redirect(back)
    log.info("person %s linked %s account %s by OAuth", person_id, provider.value, info.login)
    signed = current if current.person_id == person_id else current.signed_in(person_id)
    if pending.intent == "link":
        keep(request, replace(signed, pending=None, notice=f"Linked {app.title} as {info.login}."))
        return redirect(SETTINGS)
    note = f"Signed in with {app.title} as {info.login}."
    keep(request, replace(signed, pending=None, notice=note, after=None))
    return redirect(current.after or DASHBOARD)


async def one_time_link(request: web.Request) -> web.Response:
    ctx, current = context(request), session(request)
    person_id = await signin_links.redeem(ctx.redis, request.match_info["token"])
    if person_id is None or await ctx.accounts.person(person_id) is None:
        note = "That sign-in link was used already or has expired. Ask for a fresh one."
        keep(request, current.with_notice(note))
        return redirect(SIGNIN)
    log.info("person %s signed in with a one-time link", person_id)
    keep(request, current.signed_in(person_id).with_notice("Signed in."))
    asked = safe_next(request.query.get("next")) or current.after
    return redirect(asked or await _landing(request, person_id))


async def _landing(request: web.Request, person_id: str) -> str:
    """The operator's link (`python app.py login`) opens the sessions; a link Slack gave a
    person (`/repobox connect`, the App Home) is for linking their accounts: Settings."""
    identities = await context(request).accounts.identities(person_id)
    operator = any(i.kind is IdentityKind.OPERATOR for i in identities)
    return DASHBOARD if operator else SETTINGS


async def signout(request: web.Request) -> web.Response:
    """Sign out here and in every other browser holding a cookie for this person."""
    person_id = session(request).person_id
    if person_id:
        await context(request).sign_out(person_id)
    keep(request, None)
    return redirect(SIGNIN)
