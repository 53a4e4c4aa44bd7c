"""`.repobox.yml`'s `network:` and `mcp:` keys: read when right, each mistake named."""

from __future__ import annotations

import pytest

from bot.checks.config import ConfigInvalid
from bot.checks.reading import parse_config
from bot.core.mcp_servers import McpServer


def test_hosts_and_servers_are_read() -> None:
    config = parse_config(
        "network:\n  hosts: [PyPI.org, .pythonhosted.org]\n"
        "mcp:\n  docs: {command: python3, args: [docs.py], env_from: {TOKEN: DOCS_TOKEN}}\n"
    )
    assert config.hosts == ("pypi.org", ".pythonhosted.org")
    assert config.mcp == (McpServer("docs", "python3", ("docs.py",), {"TOKEN": "DOCS_TOKEN"}),)


def test_a_server_over_http_is_read() -> None:
    config = parse_config(
        "mcp:\n  docs: {url: 'https://mcp.example.com/mcp', "
        "headers_from: {Authorization: DOCS_AUTH}}\n"
    )
    assert config.mcp == (
        McpServer(
            "docs", url="https://mcp.example.com/mcp", headers_from={"Authorization": "DOCS_AUTH"}
        ),
    )
    assert config.mcp[0].host == "mcp.example.com"


@pytest.mark.parametrize(
    "spec",
    [
        "{url: 'ftp://mcp.example.com/'}",
        "{url: 'https://user:pw@mcp.example.com/'}",
        "{url: 'https:///nohost'}",
        "{url: 'https://mcp.example.com/', command: x}",
        "{url: 'https://mcp.example.com/', headers_from: {'Bad Header': X}}",
        "{url: 'https://mcp.example.com/', headers_from: {X-Key: 'not a name'}}",
    ],
)
def test_a_bad_server_over_http_is_named(spec: str) -> None:
    with pytest.raises(ConfigInvalid) as raised:
        parse_config(f"mcp:\n  docs: {spec}\n")
    [problem] = raised.value.problems
    assert problem.startswith("line 2: mcp.docs"), problem


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            'network:\n  hosts: ["bad host"]\n',
            "line 2, `network.hosts[0]`: expected a host name such as pypi.org, or "
            ".example.org for its subdomains, got `bad host`",
        ),
        ("network:\n  hots: [a]\n", "line 2, `network.hots`: expected one of hosts (unknown key)"),
        (
            "mcp: [a]\n",
            "line 1, `mcp`: expected a mapping of server names to {command, args, env_from} or "
            "{url, headers_from}, got a list",
        ),
    ],
)
def test_mistakes_are_named(text: str, problem: str) -> None:
    with pytest.raises(ConfigInvalid) as raised:
        parse_config(text)
    assert raised.value.problems == [problem]
