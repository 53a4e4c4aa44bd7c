"""The real Repobox web app on a real port, for tests that POST webhooks to it.

It runs `handlers.web.build_app` in its own thread and event loop (`LiveServer`), so a
test can post signed deliveries with a plain HTTP client, then run the jobs they enqueued
with a real RQ worker (`run_jobs`).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, Self

from redis import Redis

from bot.core.config import Settings
from tests.live_server import LiveServer


class WebApp(LiveServer):
    """The app as a context manager (see `LiveServer`), with a POST helper for webhooks."""

    def __init__(self, settings: Settings, redis: Redis) -> None:
        super().__init__(settings, redis)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        """POST raw bytes as a platform would; returns (status, parsed JSON reply)."""
        url = self.url + path  # always http://127.0.0.1:<port>/…
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")
