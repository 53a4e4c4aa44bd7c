"""MCP servers over streamable HTTP for the built-in agent: a tiny server written with the
SDK, declared by the operator or by the repository's `.repobox.yml` with a `url`; its
header secret comes from an operator setting; a repository's URL is used only on a host
the operator lets repositories reach, and a refused one is named and never fetched."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from redis import Redis

from bot.core.config import Settings
from bot.core.mcp_servers import McpServer
from bot.sessions.events import EventKind
from jobs.worker import runtime
from tests.agent_support import agent_settings, fake, results_text, start_session, texts
from tests.agents.mcp_http import HEADER, TOKEN, HttpEcho
from tests.conftest import MakeRepo
from tests.fakes.anthropic import FakeAnthropic, Reply

__all__ = ["fake"]  # fixtures
TOOL = "mcp__web__whisper"
OFFERED = {"WEB_TOKEN": TOKEN}


@pytest.fixture
def echo() -> Iterator[HttpEcho]:
    with HttpEcho().serving() as server:
        yield server


def repo_yml(url: str) -> str:
    declared = {"web": {"url": url, "headers_from": {HEADER: "WEB_TOKEN"}}}
    return "mcp: " + json.dumps(declared) + "\n"


def test_an_operator_server_over_http_is_called_by_the_built_in_agent(
    settings: Settings, redis: Redis, fake: FakeAnthropic, make_repo: MakeRepo, echo: HttpEcho
) -> None:
    web = McpServer("web", url=echo.url, headers_from={HEADER: "WEB_TOKEN"})
    changes = {"mcp_servers": (web,), "mcp_env": OFFERED}
    ctx = runtime.install(agent_settings(settings, fake, **changes), redis)
    fake.script(Reply.tool_use(TOOL, {"text": "HELLO"}), Reply.text("It whispered."))
    session = start_session(ctx, make_repo(), "whisper hello")

    offered = [tool["name"] for tool in fake.requests()[0]["tools"]]
    assert TOOL in offered and "run" in offered
    assert results_text(fake, 1) == [(False, "hello (over http, with token)")]
    assert "used `whisper` of MCP server `web`" in texts(ctx, session, EventKind.STEP)
    assert not [w for w in texts(ctx, session, EventKind.WARNING) if "MCP" in w]


def test_a_repository_url_on_an_allowed_host_is_used(
    settings: Settings, redis: Redis, fake: FakeAnthropic, make_repo: MakeRepo, echo: HttpEcho
) -> None:
    changes = {"mcp_env": OFFERED, "egress_allowed": ("127.0.0.1",)}
    ctx = runtime.install(agent_settings(settings, fake, **changes), redis)
    fake.script(Reply.tool_use(TOOL, {"text": "Hi"}), Reply.text("Done."))
    start_session(ctx, make_repo(files={".repobox.yml": repo_yml(echo.url)}), "whisper hi")

    assert results_text(fake, 1) == [(False, "hi (over http, with token)")]


@pytest.mark.parametrize(
    ("allowed", "host", "why"),
    [
        ((), "127.0.0.1", "its host 127.0.0.1 is not within REPOBOX_EGRESS_ALLOWED"),
        (
            (".localhost",),
            "localhost",
            "plain http:// is only for hosts REPOBOX_EGRESS_ALLOWED names exactly; "
            "use https://localhost",
        ),
    ],
)
def test_a_repository_url_elsewhere_is_refused_by_name_and_never_fetched(
    settings: Settings,
    redis: Redis,
    fake: FakeAnthropic,
    make_repo: MakeRepo,
    echo: HttpEcho,
    allowed: tuple[str, ...],
    host: str,
    why: str,
) -> None:
    changes = {"mcp_env": OFFERED, "egress_allowed": allowed}
    ctx = runtime.install(agent_settings(settings, fake, **changes), redis)
    fake.script(Reply.text("Nothing to call."))
    url = echo.url.replace("127.0.0.1", host)
    session = start_session(ctx, make_repo(files={".repobox.yml": repo_yml(url)}), "whisper")

    assert f"⚠️ MCP server `web` was not used: {why}" in texts(ctx, session, EventKind.WARNING)
    assert TOOL not in [tool["name"] for tool in fake.requests()[0]["tools"]]
    assert echo.requests == []
