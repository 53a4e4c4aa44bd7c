"""Which MCP servers a run uses and how: the operator's (`REPOBOX_MCP_SERVERS`) and the
repository's (`.repobox.yml` `mcp:`, read from the base branch). A command is started inside
the run's sandbox with the agent's secret-free environment plus the variables its
`env_from` names from the operator's `REPOBOX_MCP_ENV`; a server over HTTP is reached at its
URL with the headers its `headers_from` names. A repository's URL is used only when the
egress allow-list lets repositories reach its host (no SSRF); refused ones are named."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot.agents.mcp_hub import Launch
from bot.core.config import Settings
from bot.core.mcp_servers import McpServer, server_env
from bot.security.egress import repo_url_refusal
from bot.security.environment import agent_environment
from bot.security.sandbox import Sandbox


def run_servers(settings: Settings, repo: Sequence[McpServer]) -> tuple[list[McpServer], list[str]]:
    """The operator's servers, then the repository's whose names are not taken and whose
    URL (if any) the operator lets repositories reach; a problem line per refused one."""
    taken = {s.name for s in settings.mcp_servers}
    kept: list[McpServer] = []
    problems: list[str] = []
    for server in repo:
        if server.name in taken:
            continue
        why = repo_url_refusal(settings, server.url) if server.url else None
        if why is None:
            kept.append(server)
        else:
            problems.append(f"MCP server `{server.name}` was not used: {why}")
    return [*settings.mcp_servers, *kept], problems


def mcp_hosts(servers: Sequence[McpServer]) -> tuple[str, ...]:
    """The hosts of the servers over HTTP: they join the run's network allow-list."""
    return tuple(s.host for s in servers if s.host)


def missing_text(server: McpServer, missing: Sequence[str]) -> str:
    return (
        f"MCP server `{server.name}` asks for {', '.join(missing)}, which the operator "
        "does not offer (REPOBOX_MCP_ENV)"
    )


def launches(
    settings: Settings, servers: Sequence[McpServer], sandbox: Sandbox | None, workdir: Path
) -> tuple[list[Launch], list[str]]:
    """How to start or reach each server, and a problem line per setting a server asked for
    that the operator does not offer (the server is used without it)."""
    base = agent_environment(settings)
    found: list[Launch] = []
    problems: list[str] = []
    for server in servers:
        values, missing = server_env(server, settings.mcp_env)
        if missing:
            problems.append(missing_text(server, missing))
        if server.url:
            found.append(Launch(server.name, (), {}, url=server.url, headers=values))
            continue
        argv = [server.command, *server.args]
        if sandbox is not None:
            argv = sandbox.wrap(argv, workdir)
        found.append(Launch(server.name, tuple(argv), {**base, **values}))
    return found, problems
