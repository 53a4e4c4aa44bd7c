"""What the account routes share: settings, the web app's async Redis client, the account
store on it, the cookie sealer. Every Redis call here is awaited on the loop."""

from __future__ import annotations

import time
from dataclasses import dataclass

from aiohttp import web
from redis.asyncio import Redis as AsyncRedis

from bot.core import keys
from bot.core.config import Settings
from bot.identity.accounts import AccountStore
from bot.identity.oauth import OAuthApp
from bot.identity.oidc import OidcApp
from bot.identity.people import Provider
from handlers.dashboard.auth.cookies import SESSION_TTL, SessionCookies, WebSession


@dataclass
class AccountContext:
    settings: Settings
    redis: AsyncRedis  # the web app's shared client (`WebContext.aredis`)
    accounts: AccountStore
    cookies: SessionCookies
    apps: dict[Provider, OAuthApp]
    oidc: OidcApp | None = None  # REPOBOX_OIDC_ISSUER…: "Sign in with <name>"

    async def revoked(self, session: WebSession) -> bool:
        """Whether the person signed out after this session was issued (every signed-in
        request asks, so it must never hold the loop)."""
        raw = await self.redis.get(keys.signed_out(session.person_id or ""))
        return raw is not None and float(raw) >= session.issued

    async def sign_out(self, person_id: str) -> None:
        await self.redis.set(keys.signed_out(person_id), repr(time.time()), ex=SESSION_TTL + 60)

    @property
    def oidc_callback_url(self) -> str:
        return f"{self.settings.public_url}/account/callback/oidc"

    def callback_url(self, provider: Provider) -> str:
        return f"{self.settings.public_url}/account/callback/{provider.value}"


ACCOUNT_KEY = web.AppKey("repobox.accounts", AccountContext)


@dataclass
class SessionSlot:
    """The session as the handler leaves it; None signs out (the cookie is removed)."""

    value: WebSession | None


SESSION = web.RequestKey("repobox.web_session", SessionSlot)


def context(request: web.Request) -> AccountContext:
    return request.app[ACCOUNT_KEY]


def session(request: web.Request) -> WebSession:
    found = request[SESSION].value
    assert found is not None, "the session middleware runs before every handler"
    return found


def keep(request: web.Request, updated: WebSession | None) -> None:
    """Replace the session; the middleware seals it into the response's cookie."""
    request[SESSION].value = updated


def redirect(location: str) -> web.Response:
    """303: after a POST the browser follows with a GET."""
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})
