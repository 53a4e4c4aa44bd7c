"""The real Repobox web app on a real port, for tests that POST webhooks to it.

It runs `handlers.web.build_app` in its own thread and event loop (like the fakes), so a
test can post signed deliveries with a plain HTTP client, then run the jobs they enqueued
with a real RQ worker (`run_jobs`).
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from typing import Any, Self, cast

from aiohttp import web
from redis import Redis

from bot.config import Settings
from handlers.web import build_app


class WebApp:
    def __init__(self, settings: Settings, redis: Redis) -> None:
        self.app = build_app(settings, redis)
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the web app did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        loop = self._loop
        if loop is None or self._runner is None:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def _serve(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._runner = web.AppRunner(self.app, access_log=None)
        loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        server = cast(asyncio.Server, site._server)
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        loop.run_forever()
        loop.close()

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        """POST raw bytes as a platform would; returns (status, parsed JSON reply)."""
        url = self.url + path  # always http://127.0.0.1:<port>/…
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")
