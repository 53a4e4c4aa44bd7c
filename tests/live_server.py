"""The real aiohttp app on a real port, in a thread with its own event loop.

It can be stopped and started again on the same port, as a restarted web process would be,
and reads Server-Sent Events with a plain blocking HTTP client.
"""

from __future__ import annotations

import asyncio
import errno
import http.client
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from redis import Redis

from bot.core.config import Settings
from handlers.live.page import STREAMS_KEY
from handlers.web import build_app
from tests.ports import free_port

Configure = Callable[[web.Application], None]


class LiveServer:
    """`build_app` served on `port` (0: a free one below the kernel's ephemeral range, kept
    for restarts); `factory` replaces it."""

    def __init__(
        self,
        settings: Settings,
        redis: Redis,
        configure: Configure | None = None,
        *,
        port: int = 0,
        factory: Callable[[], web.Application] | None = None,
    ) -> None:
        self.settings = settings
        self.redis = redis
        self.configure = configure
        self.factory = factory
        self.port = port
        self.app: web.Application | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        ready = threading.Event()
        failed: list[BaseException] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, args=(ready, failed), daemon=True)
        self._thread.start()
        if not ready.wait(30):
            raise RuntimeError("the web app did not start")
        if failed:
            self._thread.join(5)
            self._loop.close()
            self._loop = self._runner = self._thread = None
            raise RuntimeError("the web app did not start") from failed[0]
        return self

    def _serve(self, ready: threading.Event, failed: list[BaseException]) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start_site())
        except BaseException as error:  # said by start(), in the test's thread
            failed.append(error)
            ready.set()
            return
        ready.set()
        self._loop.run_forever()

    async def _start_site(self) -> None:
        self.app = self.factory() if self.factory else build_app(self.settings, self.redis)
        if self.configure is not None:
            self.configure(self.app)
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=5)
        await self._runner.setup()
        chosen = self.port == 0
        for _ in range(20 if chosen else 1):
            port = free_port() if chosen else self.port  # kept for restarts: see tests/ports.py
            try:
                await web.TCPSite(self._runner, "127.0.0.1", port).start()
            except OSError as error:
                if error.errno != errno.EADDRINUSE or not chosen:
                    raise
                continue  # taken since it was picked
            self.port = port
            return
        raise RuntimeError("no free port for the web app")

    def stop(self) -> None:
        if self._loop is None or self._runner is None:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(15)
        self._loop.call_soon_threadsafe(self._loop.stop)
        assert self._thread is not None
        self._thread.join(10)
        self._loop.close()
        self._loop = self._runner = self._thread = None

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run `fn` on the server's loop (to read state the app keeps there)."""
        assert self._loop is not None

        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(5)

    def open_streams(self) -> int:
        assert self.app is not None
        return int(self.call(lambda: self.app[STREAMS_KEY].open if self.app else 0))

    def get(
        self, path: str, headers: dict[str, str] | None = None
    ) -> tuple[int, str, dict[str, str]]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read().decode(), dict(response.getheaders())
        finally:
            conn.close()


@dataclass
class SseMessage:
    event: str = "message"
    id: str | None = None
    data: str = ""
    comment: str | None = None

    def json(self) -> Any:
        return json.loads(self.data)


@dataclass
class SseReader:
    """A blocking reader of one event stream (it parses what EventSource would)."""

    response: http.client.HTTPResponse
    conn: http.client.HTTPConnection
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def open(cls, server: LiveServer, path: str, last_event_id: str | None = None) -> SseReader:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        headers = {"Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return cls(response, conn, response.status, dict(response.getheaders()))

    def messages(self) -> Iterator[SseMessage]:
        current = SseMessage()
        has_data = False
        while True:
            raw = self.response.readline()
            if not raw:
                return
            line = raw.decode().rstrip("\n")
            if line == "":
                if has_data or current.comment is not None:
                    yield current
                current, has_data = SseMessage(), False
            elif line.startswith(":"):
                current.comment = line[1:].strip()
            else:
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "data":
                    current.data, has_data = value, True
                elif name == "event":
                    current.event = value
                elif name == "id":
                    current.id = value

    def progress(self, count: int) -> list[SseMessage]:
        """The next `count` progress messages (prompt and diff messages are skipped)."""
        found: list[SseMessage] = []
        for msg in self.messages():
            if msg.event == "message" and msg.data:
                found.append(msg)
                if len(found) == count:
                    break
        return found

    def close(self) -> None:
        self.conn.close()
