"""MCP servers as settings say them: a bad declaration stops start-up with the variable's
name; the offered values are secrets, kept from agents and redacted."""

from __future__ import annotations

import pytest

from bot.core.config import Settings
from bot.core.errors import ConfigError
from bot.core.mcp_servers import McpServer


def test_servers_and_offered_values_are_read() -> None:
    settings = Settings.from_env(
        {
            "REPOBOX_MCP_SERVERS": '{"docs": {"command": "docs-mcp", "args": ["--stdio"],'
            ' "env_from": {"TOKEN": "DOCS_TOKEN"}}}',
            "REPOBOX_MCP_ENV": "DOCS_TOKEN OTHER_UNSET",
            "DOCS_TOKEN": "docs-secret-value",
        }
    )
    assert settings.mcp_servers == (
        McpServer("docs", "docs-mcp", ("--stdio",), {"TOKEN": "DOCS_TOKEN"}),
    )
    assert settings.mcp_env == {"DOCS_TOKEN": "docs-secret-value"}
    assert "docs-secret-value" in settings.secret_values()


def test_a_server_over_http_is_read() -> None:
    raw = (
        '{"linear": {"url": "https://mcp.linear.app/mcp", "headers_from": {"Authorization": "LA"}}}'
    )
    settings = Settings.from_env({"REPOBOX_MCP_SERVERS": raw})
    assert settings.mcp_servers == (
        McpServer("linear", url="https://mcp.linear.app/mcp", headers_from={"Authorization": "LA"}),
    )


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        ("not json", "REPOBOX_MCP_SERVERS must be JSON"),
        ('["docs"]', "REPOBOX_MCP_SERVERS must map up to 10 server names to servers"),
        ('{"docs": {"args": []}}', "REPOBOX_MCP_SERVERS.docs.command must be a command"),
        ('{"docs": {"command": "x", "env": {}}}', "must be a mapping with command, args"),
        (
            '{"docs": {"command": "x", "env_from": {"A": "not a name!"}}}',
            "REPOBOX_MCP_SERVERS.docs.env_from must map variable names to operator setting",
        ),
        ('{"docs": {"url": "file:///etc/passwd"}}', "REPOBOX_MCP_SERVERS.docs.url must be an"),
        (
            '{"docs": {"url": "https://x.example/", "headers_from": {"A": "a b"}}}',
            "REPOBOX_MCP_SERVERS.docs.headers_from must map header names to operator setting",
        ),
    ],
)
def test_a_bad_declaration_is_refused_by_name(raw: str, said: str) -> None:
    with pytest.raises(ConfigError, match=said.replace(".", r"\.")):
        Settings.from_env({"REPOBOX_MCP_SERVERS": raw})
