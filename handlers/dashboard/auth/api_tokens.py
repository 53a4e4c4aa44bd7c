"""The settings page's API tokens: make one (shown once, in the answer to the form, never
stored or redirected with), and revoke one. Every POST here carries the CSRF token, as
every form of the account pages does (`handlers.dashboard.auth.middleware`)."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.core.errors import UserError
from bot.identity.api_tokens import ApiTokens
from handlers.dashboard.auth.context import context, keep, redirect, session
from handlers.dashboard.auth.settings import settings_page
from handlers.dashboard.auth.signin import SETTINGS, SIGNIN

log = logging.getLogger(__name__)


async def create(request: web.Request) -> web.Response:
    person_id = session(request).person_id
    if not person_id:
        return redirect(SIGNIN)
    form = await request.post()
    days = str(form.get("days", ""))
    scopes = [str(s) for s in form.getall("scope", [])]
    try:
        if not (days.isdigit() and len(days) < 4):
            raise UserError("Choose when the token expires.")
        token, made = await ApiTokens(context(request).redis).create(
            person_id, str(form.get("name", "")), scopes, int(days)
        )
    except UserError as refused:
        keep(request, session(request).with_notice(str(refused)))
        return redirect(SETTINGS)
    log.info("person %s made API token %s (%s)", person_id, made.id, ",".join(made.scopes))
    note = f"Made the API token “{made.name}”. Copy it now: it is not shown again."
    keep(request, session(request).with_notice(note))
    return await settings_page(request, new_token=token)


async def revoke(request: web.Request) -> web.Response:
    person_id = session(request).person_id
    if not person_id:
        return redirect(SIGNIN)
    token_id = request.match_info["token_id"]
    removed = await ApiTokens(context(request).redis).revoke(person_id, token_id)
    if removed:
        log.info("person %s revoked API token %s", person_id, token_id)
    note = "Revoked the API token." if removed else "There is no such API token."
    keep(request, session(request).with_notice(note))
    return redirect(SETTINGS)
