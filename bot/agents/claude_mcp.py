"""MCP servers for Claude Code: a `--mcp-config` file in the workdir's private `.git/repobox/`
naming each server, which Claude Code starts itself, inside the same sandbox as it runs, or
reaches over HTTP (`{"type": "http", "url", "headers"}`) through the run's allow-list proxy.

Secrets stay off the disk: the file says `${VARIABLE}` (in a server's `env` or a header's
value) and the value rides in Claude Code's environment, which it expands. Claude Code then
holds the values, so the commands it runs can see them too (any file it could read, they
could read as well); the built-in agent keeps them to the worker and the server alone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from bot.agents.mcp_launch import missing_text
from bot.core.config import Settings
from bot.core.mcp_servers import McpServer, server_env

FILE = Path("repobox") / "mcp.json"  # under the workdir's .git
HEADER_VARIABLE = "REPOBOX_MCP_HEADER_{}"  # one per header value, never a setting's own name


def mcp_config(
    settings: Settings, servers: Sequence[McpServer], workdir: Path
) -> tuple[list[str], dict[str, str], list[str]]:
    """(the extra command-line arguments, the variables Claude Code needs for them, a
    problem line per setting a server asked for that the operator does not offer)."""
    git_dir = workdir / ".git"
    if not servers or not git_dir.is_dir():
        return [], {}, []
    described: dict[str, object] = {}
    env: dict[str, str] = {}
    problems: list[str] = []
    for server in servers:
        values, missing = server_env(server, settings.mcp_env)
        if missing:
            problems.append(missing_text(server, missing))
        if server.url:
            headers: dict[str, str] = {}
            for header, value in values.items():
                variable = HEADER_VARIABLE.format(len(env))
                env[variable] = value
                headers[header] = "${" + variable + "}"
            described[server.name] = {"type": "http", "url": server.url, "headers": headers}
            continue
        env.update(values)
        described[server.name] = {
            "type": "stdio",
            "command": server.command,
            "args": list(server.args),
            "env": {name: "${" + name + "}" for name in values},
        }
    path = git_dir / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"mcpServers": described}, indent=1) + "\n")
    allowed = ",".join(f"mcp__{server.name}" for server in servers)
    return ["--mcp-config", str(path), "--allowedTools", allowed], env, problems
