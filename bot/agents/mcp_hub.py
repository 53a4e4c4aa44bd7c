"""A run's MCP servers for the built-in agent: each started inside the sandbox (or reached
at its URL over streamable HTTP), connected with the official `mcp` SDK's client, its tools
offered to the model beside the agent's own as `mcp__<server>__<tool>`, and each call
shown as a step.

The SDK is async and its transports must be entered and left in one task, so the
hub runs its own event loop on a thread: one task holds every server's connection open
for the run and closes them at the end; calls are sent to that loop and awaited here.
A server that does not start, or whose tools cannot be listed, is left out and named in
a warning; the run goes on without it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.agents.text import short

if TYPE_CHECKING:  # the SDKs load when a hub connects: every process that only names a
    # server (the web process, the doctor, the terminal) would otherwise pay 1.2 s at start
    from anthropic.types import ToolParam
    from mcp import ClientSession

log = logging.getLogger(__name__)
PREFIX = "mcp__"
START_TIMEOUT = 60.0
CALL_TIMEOUT = 300.0
MAX_RESULT = 50_000  # characters of a tool's result the model is given


@dataclass(frozen=True)
class Launch:
    """How to start one server: its command line (already inside the sandbox) and its
    whole environment (its secrets come from the operator's settings); or, for a server
    over HTTP, its URL and request headers (the same)."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)


class McpHub:
    def __init__(self, servers: Sequence[Launch], problems: Sequence[str] = ()) -> None:
        self.servers = servers
        self.problems: list[str] = list(problems)
        self._tools: dict[str, tuple[ClientSession, str]] = {}
        self._params: list[ToolParam] = []
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="mcp")
        self._closed = threading.Event()

    def __enter__(self) -> McpHub:
        if not self.servers:
            return self
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._hold(), self._loop)
        if not self._ready.wait(START_TIMEOUT * max(1, len(self.servers))):
            self.problems.append("the MCP servers did not start in time")
        return self

    def __exit__(self, *_: object) -> None:
        if not self._thread.is_alive():
            return
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._closed.wait(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    def tool_params(self) -> list[ToolParam]:
        return list(self._params)

    def handles(self, name: str) -> bool:
        return name in self._tools

    def call(self, name: str, arguments: dict[str, object]) -> tuple[str, bool]:
        """(the result's text, whether it is an error) for the model."""
        session, tool = self._tools[name]
        future = asyncio.run_coroutine_threadsafe(
            session.call_tool(tool, arguments, read_timeout_seconds=CALL_TIMEOUT), self._loop
        )
        try:
            result = future.result(CALL_TIMEOUT + 5)
        except Exception as error:
            return f"The MCP tool failed: {short(str(error) or type(error).__name__)}", True
        texts = [str(getattr(c, "text", "")) for c in getattr(result, "content", []) or []]
        structured = getattr(result, "structured_content", None)
        if not any(texts) and structured is not None:
            texts = [json.dumps(structured)]
        text = "\n".join(t for t in texts if t)[:MAX_RESULT]
        return text or "(no output)", bool(getattr(result, "is_error", False))

    async def _hold(self) -> None:
        self._stop = asyncio.Event()
        try:
            async with AsyncExitStack() as stack:
                for server in self.servers:
                    try:
                        await asyncio.wait_for(self._connect(stack, server), START_TIMEOUT)
                    except Exception as error:  # named in a warning; the run goes on
                        reason = short(str(error) or type(error).__name__)
                        self.problems.append(f"MCP server `{server.name}` did not start: {reason}")
                self._ready.set()
                await self._stop.wait()
        except Exception:  # a server failing on the way out changes nothing for the run
            log.warning("an MCP server did not close cleanly", exc_info=True)
        finally:
            self._ready.set()
            self._closed.set()

    async def _connect(self, stack: AsyncExitStack, server: Launch) -> None:
        from mcp import ClientSession, StdioServerParameters
        from mcp.client.stdio import stdio_client
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client

        if server.url:
            # The SDK follows a redirect only within the URL's origin, so an allowed host
            # cannot send the worker elsewhere.
            http = await stack.enter_async_context(
                create_mcp_http_client(headers=dict(server.headers))
            )
            read, write = await stack.enter_async_context(
                streamable_http_client(server.url, http_client=http)
            )
        else:
            argv = server.argv
            params = StdioServerParameters(
                command=argv[0], args=list(argv[1:]), env=dict(server.env)
            )
            read, write = await stack.enter_async_context(stdio_client(params))
        session = await stack.enter_async_context(ClientSession(read, write))
        await session.initialize()
        listed = await session.list_tools()
        for tool in listed.tools:
            full = f"{PREFIX}{server.name}__{tool.name}"[:64]
            self._tools[full] = (session, tool.name)
            schema: dict[str, Any] = dict(tool.input_schema or {"type": "object"})
            self._params.append(
                {
                    "name": full,
                    "description": (tool.description or tool.name)[:1024],
                    "input_schema": schema,
                }
            )
