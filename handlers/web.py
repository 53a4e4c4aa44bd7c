"""The one aiohttp application: health, metrics, surfaces' routes, the live session page.

Each surface module has `register(app, ctx)`, listed in `SURFACES`; one that is not
configured registers nothing (or a route that says so), so the app starts with no tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from redis import Redis

from bot.commands.service import SessionService
from bot.core.config import Settings
from bot.core.health import RedisHealth, probe_async
from bot.core.redisio import async_client
from bot.doctor import exchange
from handlers import metrics
from handlers.api import routes as api
from handlers.common.context import CONTEXT_KEY, WebContext
from handlers.common.ui.render import STATIC_DIR, STATIC_URL
from handlers.dashboard import routes as dashboard
from handlers.dashboard.auth import routes as web_auth
from handlers.forge import github, gitlab
from handlers.live import page as pages
from handlers.slack import route as slack_route
from jobs.session_jobs import SESSION_JOBS

log = logging.getLogger(__name__)

SURFACES = (  # each registers its routes (or one that says it is not configured)
    slack_route.register,
    gitlab.register,
    github.register,
    pages.register,
    metrics.register,
    dashboard.register,  # `/` and `/dashboard/…`
    api.register,  # `/api/v1/…`: the JSON API, with personal API tokens
)


async def healthz(request: web.Request) -> web.Response:
    """200 only when Redis takes writes: "unreachable" and "refuses-writes" say which."""
    health = await probe_async(request.app[CONTEXT_KEY].aredis)
    body = {"ok": health is RedisHealth.OK, "redis": health.value, "message": health.message}
    return web.json_response(body, status=200 if health is RedisHealth.OK else 503)


async def _answer_doctors(app: web.Application) -> AsyncIterator[None]:
    """`./dev doctor` in a terminal asks this process for its checks (bot.doctor.exchange)."""
    ctx = app[CONTEXT_KEY]
    task = asyncio.create_task(exchange.serve(ctx.settings, ctx.redis, ctx.readers))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _close_async_clients(app: web.Application) -> None:
    ctx = app[CONTEXT_KEY]
    await ctx.aredis.aclose()
    await ctx.readers.aclose()


def build_app(settings: Settings, redis: Redis) -> web.Application:
    app = web.Application(client_max_size=5 * 1024 * 1024)
    aredis = async_client(redis)
    readers = async_client(redis, socket_timeout=None, shared=None)  # reads block on purpose
    service = SessionService(settings, redis, aredis, SESSION_JOBS)
    ctx = WebContext(settings, redis, aredis, readers, service)
    app[CONTEXT_KEY] = ctx
    app.router.add_get("/healthz", healthz)
    app.router.add_static(STATIC_URL, STATIC_DIR)  # every page's stylesheet and icons
    app.on_cleanup.append(_close_async_clients)
    app.cleanup_ctx.append(_answer_doctors)
    for register in SURFACES:
        register(app, ctx)
    web_auth.mount(app, settings, aredis)  # `/account/…`: sign-in, settings
    return app
