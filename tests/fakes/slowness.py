"""A fake platform that answers some calls late, as a busy platform does.

`slow_down(fake, path, seconds)` holds every request to `path` for `seconds` before the
fake answers it, without blocking the fake's other requests (the delay is awaited on the
fake's event loop). Call it before the fake starts: aiohttp freezes its middlewares then.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

from tests.fakes.base import FakeServer

_DELAYS = web.AppKey("slowness_delays", dict[str, float])


def slow_down(fake: FakeServer, path: str, seconds: float) -> None:
    """Answer requests to `path` (exact, as sent) `seconds` late."""
    if _DELAYS not in fake.app:
        fake.app[_DELAYS] = {}
        fake.app.middlewares.append(_late)
    fake.app[_DELAYS][path] = seconds


@web.middleware
async def _late(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    delay = request.app[_DELAYS].get(request.path, 0.0)
    if delay:
        await asyncio.sleep(delay)
    return await handler(request)
