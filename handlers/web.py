"""The one aiohttp application: health, metrics, surfaces' routes, the live session page.

Each surface module has `register(app, ctx)`; one that is not configured registers
nothing (or a route that says so), so the app always starts with no tokens at all.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass

from aiohttp import web
from redis import Redis
from redis.exceptions import RedisError

from bot.config import Settings
from bot.service import SessionService

log = logging.getLogger(__name__)

SURFACE_MODULES = (
    "handlers.slack",
    "handlers.gitlab",
    "handlers.github",
    "handlers.pages",
    "handlers.metrics",
)


@dataclass
class WebContext:
    settings: Settings
    redis: Redis
    service: SessionService


CONTEXT_KEY = web.AppKey("repobox", WebContext)


async def healthz(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT_KEY]
    try:
        ctx.redis.ping()
    except (RedisError, OSError):
        return web.json_response({"ok": False, "redis": "unreachable"}, status=503)
    return web.json_response({"ok": True, "redis": "ok"})


def build_app(settings: Settings, redis: Redis) -> web.Application:
    app = web.Application(client_max_size=5 * 1024 * 1024)
    ctx = WebContext(settings, redis, SessionService(settings, redis))
    app[CONTEXT_KEY] = ctx
    app.router.add_get("/healthz", healthz)
    for name in SURFACE_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            continue
        module.register(app, ctx)
    return app
