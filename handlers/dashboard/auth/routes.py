"""Accounts on the web: sign-in, sign-out, the OAuth callback and the settings page.

An aiohttp sub-application, mounted by the web process at `/account`
(`app.add_subapp("/account", build_account_app(settings, aredis))`, on the web app's
shared async client). Its own middleware
keeps the sealed session cookie and refuses any POST without the session's CSRF token.

Routes (all under /account):
    GET  /signin                    the sign-in page (no sign-in needed)
    POST /signin/{provider}         start "Sign in with GitHub/GitLab"
    GET  /callback/{provider}       the host's OAuth redirect (sign in, or link)
    GET  /link/{token}              a one-time sign-in link (`./dev login`)
    POST /signout
    GET  /settings                  linked accounts (sign-in needed, as for all below)
    POST /settings/oauth/{provider} link by OAuth
    POST /settings/token            link by a pasted personal access token
    POST /settings/test/{provider}  check a linked token with its host
    POST /settings/unlink/{provider}
    POST /settings/api-tokens       make a personal API token (shown once)
    POST /settings/api-tokens/{token_id}/revoke
    POST /signin/oidc               start "Sign in with <REPOBOX_OIDC_NAME>"
    GET  /callback/oidc             the OpenID Connect provider's redirect
"""

from __future__ import annotations

from aiohttp import web
from redis.asyncio import Redis as AsyncRedis

from bot.core.config import Settings
from bot.identity.accounts import accounts_on
from bot.identity.oauth import oauth_apps
from bot.identity.oidc import oidc_app
from handlers.dashboard.auth import api_tokens, oidc_signin, signin
from handlers.dashboard.auth import settings as settings_routes
from handlers.dashboard.auth.context import ACCOUNT_KEY, AccountContext
from handlers.dashboard.auth.cookies import SessionCookies
from handlers.dashboard.auth.middleware import sessions
from handlers.dashboard.errors import error_pages

PREFIX = "/account"


def account_context(settings: Settings, redis: AsyncRedis) -> AccountContext:
    """What the account pages (and the dashboard, which reads the same cookie) share."""
    accounts = accounts_on(settings, redis)
    return AccountContext(
        settings,
        redis,
        accounts,
        SessionCookies(settings),
        oauth_apps(settings),
        oidc_app(settings),
    )


def signed_in_app(
    settings: Settings, redis: AsyncRedis, max_size: int = 64 * 1024
) -> web.Application:
    """A sub-app whose POSTs need the session's CSRF token (the session middleware)."""
    app = web.Application(middlewares=[error_pages, sessions], client_max_size=max_size)
    app[ACCOUNT_KEY] = account_context(settings, redis)
    return app


def build_account_app(settings: Settings, redis: AsyncRedis) -> web.Application:
    app = signed_in_app(settings, redis)
    app.router.add_get("/signin", signin.signin_page)
    app.router.add_post("/signin/oidc", oidc_signin.start)
    app.router.add_get("/callback/oidc", oidc_signin.callback)
    app.router.add_post("/signin/{provider}", signin.signin_start)
    app.router.add_get("/callback/{provider}", signin.callback)
    app.router.add_get("/link/{token}", signin.one_time_link)
    app.router.add_post("/signout", signin.signout)
    app.router.add_get("/settings", settings_routes.settings_page)
    app.router.add_post("/settings/oauth/{provider}", settings_routes.link_oauth)
    app.router.add_post("/settings/token", settings_routes.paste_token)
    app.router.add_post("/settings/test/{provider}", settings_routes.test_connection)
    app.router.add_post("/settings/unlink/{provider}", settings_routes.unlink)
    app.router.add_post("/settings/api-tokens", api_tokens.create)
    app.router.add_post("/settings/api-tokens/{token_id}/revoke", api_tokens.revoke)
    return app


def mount(app: web.Application, settings: Settings, redis: AsyncRedis) -> None:
    """Called by handlers/web.py's `build_app`."""
    app.add_subapp(PREFIX, build_account_app(settings, redis))
