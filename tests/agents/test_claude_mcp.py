"""The real Claude Code CLI with an MCP server: the tiny server written with the SDK,
declared by the operator, started by Claude Code inside the sandbox through
`--mcp-config`, its secret named in the file and never written there."""

from __future__ import annotations

import json
from typing import Any

import pytest
from redis import Redis

from bot.core.config import Settings
from bot.core.mcp_servers import McpServer
from bot.sessions.events import EventKind
from tests.agent_support import start_session, texts, workdir
from tests.agents.mcp_http import HEADER, TOKEN, HttpEcho
from tests.agents.test_claude_code_cli import claude_ctx, claude_env, fake
from tests.agents.test_mcp import LAUNCH, PYTHON, TOOL, visible
from tests.conftest import MakeRepo
from tests.fakes.anthropic import FakeAnthropic, Reply

__all__ = ["claude_env", "fake", "visible"]  # fixtures


def tool_results(fake: FakeAnthropic) -> list[str]:
    found = []
    for body in fake.requests():
        for result in fake.tool_results(body):
            content: Any = result.get("content")
            if isinstance(content, list):
                content = " ".join(str(part.get("text", "")) for part in content)
            found.append(str(content))
    return found


@pytest.mark.usefixtures("claude_env")
def test_claude_code_calls_an_operator_mcp_server_inside_the_sandbox(
    settings: Settings, redis: Redis, fake: FakeAnthropic, make_repo: MakeRepo
) -> None:
    echo = McpServer("echo", PYTHON, LAUNCH, {"ECHO_TOKEN": "ECHO_TOKEN"})
    ctx = claude_ctx(
        settings,
        redis,
        "require",
        mcp_servers=(echo,),
        mcp_env={"ECHO_TOKEN": "echo-secret-123"},
    )
    fake.script(Reply.tool_use(TOOL, {"text": "hello"}), Reply.text("It shouted."))
    session = start_session(ctx, make_repo(), "shout hello")

    results = tool_results(fake)
    assert any("HELLO (init bwrap, with token)" in r for r in results), results
    config = (workdir(session) / ".git/repobox/mcp.json").read_text()
    assert "echo-secret-123" not in config
    assert json.loads(config)["mcpServers"]["echo"]["env"] == {"ECHO_TOKEN": "${ECHO_TOKEN}"}
    assert not [w for w in texts(ctx, session, EventKind.WARNING) if "MCP" in w]


@pytest.mark.usefixtures("claude_env")
def test_claude_code_calls_an_operator_mcp_server_over_http_through_the_allow_list(
    settings: Settings, redis: Redis, fake: FakeAnthropic, make_repo: MakeRepo
) -> None:
    with HttpEcho().serving() as echo:
        web = McpServer("web", url=echo.url, headers_from={HEADER: "WEB_TOKEN"})
        ctx = claude_ctx(
            settings, redis, "require", mcp_servers=(web,), mcp_env={"WEB_TOKEN": TOKEN}
        )
        fake.script(Reply.tool_use("mcp__web__whisper", {"text": "HELLO"}), Reply.text("Done."))
        session = start_session(ctx, make_repo(), "whisper hello")

    results = tool_results(fake)
    assert any("hello (over http, with token)" in r for r in results), results
    config = (workdir(session) / ".git/repobox/mcp.json").read_text()
    assert TOKEN not in config
    assert json.loads(config)["mcpServers"]["web"] == {
        "type": "http",
        "url": echo.url,
        "headers": {HEADER: "${REPOBOX_MCP_HEADER_0}"},
    }
    # the URL's host joined the run's allow-list: the sandbox's proxy let Claude Code through;
    # and the CLI tried nothing else (no telemetry or update check refused by the allow-list)
    assert texts(ctx, session, EventKind.WARNING) == []
