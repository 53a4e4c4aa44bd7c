"""A tiny MCP server for the tests, written with the official SDK: `shout` upper-cases its
text and says where it runs (the first process it can see: bwrap inside the sandbox's
own PID namespace) and whether it was given the operator's token."""

from __future__ import annotations

import os

from mcp.server.mcpserver import MCPServer

server = MCPServer("echo")


@server.tool()
def shout(text: str) -> str:
    """Upper-case `text`."""
    token = "with token" if os.environ.get("ECHO_TOKEN") == "echo-secret-123" else "no token"
    with open("/proc/1/cmdline", "rb") as init:  # bwrap inside the sandbox
        first = init.read().split(b"\0")[0].decode(errors="replace").rsplit("/", 1)[-1]
    return f"{text.upper()} (init {first}, {token})"


if __name__ == "__main__":
    server.run("stdio")
