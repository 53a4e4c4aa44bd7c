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

from bot.config import Settings
from bot.health import RedisHealth, probe
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
    """200 only when Redis takes writes: "unreachable" and "refuses-writes" say which."""
    health = probe(request.app[CONTEXT_KEY].redis)
    body = {"ok": health is RedisHealth.OK, "redis": health.value, "message": health.message}
    return web.json_response(body, status=200 if health is RedisHealth.OK else 503)


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
