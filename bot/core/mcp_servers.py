"""MCP servers as the operator (`REPOBOX_MCP_SERVERS`, JSON) and a repository (`.repobox.yml`
`mcp:`) declare them: a name, the command that starts it over stdio, its arguments, and
`env_from`, the server's environment variables filled from operator settings by name.

A repository names settings, never values: only the names the operator lists in
`REPOBOX_MCP_ENV` can be used, so a repository cannot read any other secret of the worker.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.core.errors import ConfigError

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
MAX_SERVERS = 10
MAX_ARGS = 50


@dataclass(frozen=True)
class McpServer:
    name: str
    command: str
    args: tuple[str, ...] = ()
    env_from: Mapping[str, str] = field(default_factory=dict)  # VARIABLE → setting name


def parse_servers(raw: object, where: str) -> tuple[McpServer, ...]:
    """The servers of a `{name: {command, args, env_from}}` mapping, or `ValueError`
    saying what is wrong in words."""
    if raw is None:
        return ()
    if not isinstance(raw, dict) or len(raw) > MAX_SERVERS:
        raise ValueError(f"{where} must map up to {MAX_SERVERS} server names to servers")
    servers = []
    for name, spec in raw.items():
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise ValueError(f"{where}: {name!r} is not a short server name")
        servers.append(_server(name, spec, f"{where}.{name}"))
    return tuple(servers)


def _server(name: str, spec: object, where: str) -> McpServer:
    if not isinstance(spec, dict) or set(spec) - {"command", "args", "env_from"}:
        raise ValueError(f"{where} must be a mapping with command, args and env_from")
    command = spec.get("command")
    if not isinstance(command, str) or not command.strip():
        raise ValueError(f"{where}.command must be a command (a program name or path)")
    args = spec.get("args", [])
    if (
        not isinstance(args, list)
        or len(args) > MAX_ARGS
        or not all(isinstance(a, str) for a in args)
    ):
        raise ValueError(f"{where}.args must be a list of up to {MAX_ARGS} texts")
    env_from = spec.get("env_from", {})
    if not isinstance(env_from, dict) or not all(
        isinstance(k, str)
        and VARIABLE.fullmatch(k)
        and isinstance(v, str)
        and VARIABLE.fullmatch(v)
        for k, v in env_from.items()
    ):
        raise ValueError(f"{where}.env_from must map variable names to operator setting names")
    return McpServer(name, command, tuple(args), dict(env_from))


def server_env(server: McpServer, allowed: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The server's variables from the operator's `allowed` settings, and the names it asked
    for that the operator does not offer."""
    env: dict[str, str] = {}
    missing: list[str] = []
    for variable, setting in server.env_from.items():
        if setting in allowed:
            env[variable] = allowed[setting]
        else:
            missing.append(setting)
    return env, missing


def mcp_servers(raw: str | None) -> tuple[McpServer, ...]:
    """`REPOBOX_MCP_SERVERS` (JSON), or `ConfigError` naming the variable."""
    if not raw or not raw.strip():
        return ()
    try:
        return parse_servers(json.loads(raw), "REPOBOX_MCP_SERVERS")
    except json.JSONDecodeError as error:
        raise ConfigError(f"REPOBOX_MCP_SERVERS must be JSON: {error.msg}") from None
    except ValueError as error:
        raise ConfigError(str(error)) from None
