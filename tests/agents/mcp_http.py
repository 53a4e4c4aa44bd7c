"""A tiny MCP server over streamable HTTP for the tests, written with the official SDK and
served by uvicorn on a thread: `whisper` lower-cases its text and says whether the request
carried the operator's token in `X-Echo-Token`. Every request is recorded, so a test can
tell that a refused URL was never fetched."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from mcp.server.mcpserver import MCPServer

TOKEN = "http-secret-456"
HEADER = "X-Echo-Token"


class HttpEcho:
    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []  # each request's headers, lower-case names
        server = MCPServer("whisper")

        @server.tool()
        def whisper(text: str) -> str:
            """Lower-case `text`."""
            last = self.requests[-1] if self.requests else {}
            token = "with token" if last.get(HEADER.lower()) == TOKEN else "no token"
            return f"{text.lower()} (over http, {token})"

        self.app = server.streamable_http_app()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    async def _recording(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            raw = scope.get("headers") or []
            self.requests.append({k.decode().lower(): v.decode() for k, v in raw})
        await self.app(scope, receive, send)

    @contextmanager
    def serving(self) -> Iterator[HttpEcho]:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._recording, log_level="warning", lifespan="on", interface="asgi3"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        try:
            for _ in range(600):
                if server.started:
                    break
                threading.Event().wait(0.05)
            assert server.started, "the MCP test server did not start"
            yield self
        finally:
            server.should_exit = True
            thread.join(timeout=30)
            sock.close()
