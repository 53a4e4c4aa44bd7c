"""MCP servers as the operator (`REPOBOX_MCP_SERVERS`, JSON) and a repository (`.repobox.yml`
`mcp:`) declare them: a name, then either the command that starts it over stdio, its
arguments and `env_from` (the server's environment variables filled from operator settings
by name), or the `url` of a server over streamable HTTP and `headers_from` (its request
headers filled the same way).

A repository names settings, never values: only the names the operator lists in
`REPOBOX_MCP_ENV` can be used, so a repository cannot read any other secret of the worker.
Whether a repository's URL may be fetched at all is the egress allow-list's decision
(`bot.security.egress.repo_url_refusal`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bot.core.errors import ConfigError

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
MAX_SERVERS = 10
MAX_ARGS = 50
MAX_URL = 2000
HEADER = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}")  # an HTTP header name (a token)
STDIO_KEYS = {"command", "args", "env_from"}
HTTP_KEYS = {"url", "headers_from"}


@dataclass(frozen=True)
class McpServer:
    name: str
    command: str = ""  # empty for a server over HTTP
    args: tuple[str, ...] = ()
    env_from: Mapping[str, str] = field(default_factory=dict)  # VARIABLE → setting name
    url: str = ""  # a server over streamable HTTP, instead of a command
    headers_from: Mapping[str, str] = field(default_factory=dict)  # Header → setting name

    @property
    def host(self) -> str:
        """The URL's host (lower case), or "" for a command."""
        return (urlsplit(self.url).hostname or "").lower() if self.url else ""


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
    if isinstance(spec, dict) and "url" in spec:
        return _http_server(name, spec, where)
    if not isinstance(spec, dict) or set(spec) - STDIO_KEYS:
        raise ValueError(
            f"{where} must be a mapping with command, args and env_from, or url and headers_from"
        )
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


def _http_server(name: str, spec: dict[object, object], where: str) -> McpServer:
    if set(spec) - HTTP_KEYS:
        raise ValueError(f"{where}: a server with a url takes only url and headers_from")
    url = spec["url"]
    if not isinstance(url, str) or not url_ok(url):
        raise ValueError(
            f"{where}.url must be an http:// or https:// URL with a host, no user or password, "
            f"up to {MAX_URL} characters"
        )
    headers = spec.get("headers_from", {})
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and HEADER.fullmatch(k) and isinstance(v, str) and VARIABLE.fullmatch(v)
        for k, v in headers.items()
    ):
        raise ValueError(f"{where}.headers_from must map header names to operator setting names")
    return McpServer(name, url=url, headers_from=dict(headers))


def url_ok(url: str) -> bool:
    """An http(s) URL with a host and no credentials in it (those come from settings)."""
    if len(url) > MAX_URL or any(c.isspace() or ord(c) < 32 for c in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.hostname) and "@" not in parts.netloc


def server_env(server: McpServer, allowed: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The server's variables (its headers, for a server over HTTP) from the operator's
    `allowed` settings, and the names it asked for that the operator does not offer."""
    env: dict[str, str] = {}
    missing: list[str] = []
    wanted = server.headers_from if server.url else server.env_from
    for variable, setting in wanted.items():
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
