"""Which MCP servers a run starts and how: the operator's (`REPOBOX_MCP_SERVERS`) and the
repository's (`.repobox.yml` `mcp:`, read from the base branch), each inside the run's
sandbox with the agent's secret-free environment plus the variables its `env_from` names
from the operator's `REPOBOX_MCP_ENV`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot.agents.mcp_hub import Launch
from bot.core.config import Settings
from bot.core.mcp_servers import McpServer, server_env
from bot.security.environment import agent_environment
from bot.security.sandbox import Sandbox


def run_servers(settings: Settings, repo: Sequence[McpServer]) -> list[McpServer]:
    """The operator's servers, then the repository's whose names are not taken."""
    taken = {s.name for s in settings.mcp_servers}
    return [*settings.mcp_servers, *(s for s in repo if s.name not in taken)]


def launches(
    settings: Settings, servers: Sequence[McpServer], sandbox: Sandbox | None, workdir: Path
) -> tuple[list[Launch], list[str]]:
    """How to start each server, and a problem line per setting a server asked for that the
    operator does not offer (the server starts without it)."""
    base = agent_environment(settings)
    found: list[Launch] = []
    problems: list[str] = []
    for server in servers:
        env, missing = server_env(server, settings.mcp_env)
        if missing:
            problems.append(
                f"MCP server `{server.name}` asks for {', '.join(missing)}, which the operator "
                "does not offer (REPOBOX_MCP_ENV)"
            )
        argv = [server.command, *server.args]
        if sandbox is not None:
            argv = sandbox.wrap(argv, workdir)
        found.append(Launch(server.name, tuple(argv), {**base, **env}))
    return found, problems
