"""A tiny MCP server for the tests, written with the official SDK: `shout` upper-cases its
text and says where it runs (its process id: small inside the sandbox's own PID
namespace) and whether it was given the operator's token."""

from __future__ import annotations

import os

from mcp.server.mcpserver import MCPServer

server = MCPServer("echo")


@server.tool()
def shout(text: str) -> str:
    """Upper-case `text`."""
    token = "with token" if os.environ.get("ECHO_TOKEN") == "echo-secret-123" else "no token"
    return f"{text.upper()} (pid {os.getpid()}, {token})"


if __name__ == "__main__":
    server.run("stdio")
