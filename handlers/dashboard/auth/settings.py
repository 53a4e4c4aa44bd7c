"""The settings page: linked accounts, shown masked with their scopes, and what can be
done with them (link by OAuth or a pasted token, test, unlink)."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot.core.errors import ConfigError, UpstreamError, UserError
from bot.identity import broken
from bot.identity.api_tokens import ApiTokens
from bot.identity.people import Credential, Provider, Source
from bot.identity.tokens import inspect
from bot.security.credentials import CredentialError
from handlers.dashboard.auth import pages
from handlers.dashboard.auth.context import context, keep, redirect, session
from handlers.dashboard.auth.signin import SETTINGS, SIGNIN, configured, start_oauth

log = logging.getLogger(__name__)


def signed_in(request: web.Request) -> str | None:
    return session(request).person_id


def _provider(value: str) -> Provider | None:
    try:
        return Provider(value)
    except ValueError:
        return None


def _done(request: web.Request, note: str) -> web.Response:
    keep(request, session(request).with_notice(note))
    return redirect(SETTINGS)


async def settings_page(request: web.Request, *, new_token: str | None = None) -> web.Response:
    """The page; `new_token`: a just-made API token, shown in this answer only."""
    ctx, current = context(request), session(request)
    person = await ctx.accounts.person(current.person_id) if current.person_id else None
    if person is None:
        keep(request, None if current.person_id else current)
        return redirect(SIGNIN)
    keep(request, current.with_notice(None))
    return pages.settings(
        person,
        await ctx.accounts.is_admin(person.id),
        await ctx.accounts.identities(person.id),
        await ctx.accounts.connections(person.id),
        {b.provider.value: b.why for b in await broken.of_person(ctx.accounts.redis, person.id)},
        ctx.apps.values(),
        current.csrf,
        current.notice,
        await ApiTokens(ctx.redis).of(person.id),
        new_token,
    )


async def link_oauth(request: web.Request) -> web.Response:
    if not signed_in(request):
        return redirect(SIGNIN)
    return start_oauth(request, configured(request), "link")


async def paste_token(request: web.Request) -> web.Response:
    person_id = signed_in(request)
    if not person_id:
        return redirect(SIGNIN)
    data = await request.post()
    provider = _provider(str(data.get("provider", "")))
    token = str(data.get("token", "")).strip()
    if provider is None or not token:
        return _done(request, "Choose GitHub or GitLab and paste a token.")
    ctx = context(request)
    try:
        info = await asyncio.to_thread(inspect, ctx.settings, provider, token)
        credential = Credential(provider, token, info.login, info.scopes or (), Source.TOKEN)
        saved = await ctx.accounts.save_credential(person_id, credential)
    except ConfigError:
        return _done(request, f"{provider.value} is not configured on this Repobox.")
    except (UserError, UpstreamError) as error:
        return _done(request, str(error))
    log.info("person %s linked %s account %s by token", person_id, provider.value, info.login)
    return _done(request, f"Linked {provider.value} as {info.login} ({saved.masked}).")


async def test_connection(request: web.Request) -> web.Response:
    person_id = signed_in(request)
    provider = _provider(request.match_info["provider"])
    if not person_id or provider is None:
        return redirect(SIGNIN)
    ctx = context(request)
    try:
        credential = await ctx.accounts.credential(person_id, provider)
        if credential is None:
            return _done(request, f"No {provider.value} account is linked.")
        info = await asyncio.to_thread(inspect, ctx.settings, provider, credential.token)
    except CredentialError:
        return _done(request, "The stored token can no longer be decrypted; link it again.")
    except (UserError, UpstreamError, ConfigError) as error:
        return _done(request, f"Test failed: {error}")
    left = "" if info.rate_limit_remaining is None else f", {info.rate_limit_remaining} calls left"
    return _done(
        request,
        f"{provider.value} accepts the token: {info.login}, scopes {info.scopes_text}{left}.",
    )


async def unlink(request: web.Request) -> web.Response:
    person_id = signed_in(request)
    provider = _provider(request.match_info["provider"])
    if not person_id or provider is None:
        return redirect(SIGNIN)
    removed = await context(request).accounts.unlink(person_id, provider)
    log.info("person %s unlinked %s", person_id, provider.value)
    return _done(request, f"Unlinked {provider.value}." if removed else "Nothing to unlink.")
