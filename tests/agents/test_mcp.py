"""MCP servers for the built-in agent: a tiny server written with the SDK, declared by the
operator or by the repository's `.repobox.yml`, started inside the sandbox; its tool is
offered to the model beside the agent's own, called, and shown as a step."""

from __future__ import annotations

import json
from pathlib import Path

import mcp
import pytest
from redis import Redis

from bot.core.config import Settings
from bot.core.mcp_servers import McpServer
from bot.security.sandbox import probe, sandbox_for
from bot.sessions.events import EventKind
from jobs.worker import runtime
from tests.agent_support import agent_settings, fake, results_text, start_session, texts
from tests.conftest import MakeRepo
from tests.fakes.anthropic import FakeAnthropic, Reply

__all__ = ["fake"]  # fixtures

pytestmark = pytest.mark.skipif(not probe().usable, reason="bubblewrap cannot run here")
SERVER = str(Path(__file__).with_name("mcp_echo.py"))
TOOL = "mcp__echo__shout"
SITE = str(Path(mcp.__file__).resolve().parent.parent)
# The system interpreter (the venv's may live under the home directory, which the sandbox
# hides) with the test environment's packages, where the sandbox shows them.
PYTHON = "/usr/bin/python3"
LAUNCH = (
    "-c",
    f"import sys, runpy; sys.path.insert(0, {SITE!r}); "
    f"runpy.run_path({SERVER!r}, run_name='__main__')",
)


@pytest.fixture(autouse=True)
def visible(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Skips only when the checkout itself is where the sandbox hides (/tmp, /var/tmp, /run):
    a checkout under the home directory is shown, since the worker's home is a fresh one."""
    home = tmp_path / "worker-home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))  # the sandbox hides $HOME, not the real one
    sandbox = sandbox_for(settings.with_changes(sandbox="require"))
    assert sandbox is not None
    for needed in (Path(SITE), Path(SERVER), Path(PYTHON)):
        if not needed.exists() or sandbox.hidden_place(needed, tmp_path) is not None:
            pytest.skip(f"{needed} cannot be seen inside the sandbox here")


def test_an_operator_server_is_called_by_the_built_in_agent_inside_the_sandbox(
    settings: Settings, redis: Redis, fake: FakeAnthropic, make_repo: MakeRepo
) -> None:
    echo = McpServer("echo", PYTHON, LAUNCH, {"ECHO_TOKEN": "ECHO_TOKEN"})
    changes = {"mcp_servers": (echo,), "mcp_env": {"ECHO_TOKEN": "echo-secret-123"}}
    ctx = runtime.install(agent_settings(settings, fake, **changes), redis)
    fake.script(Reply.tool_use(TOOL, {"text": "hello"}), Reply.text("It shouted."))
    session = start_session(ctx, make_repo(), "shout hello")

    offered = [tool["name"] for tool in fake.requests()[0]["tools"]]
    assert TOOL in offered and "run" in offered
    [(is_error, content)] = results_text(fake, 1)
    assert not is_error
    assert content == "HELLO (init bwrap, with token)"  # its own PID namespace: the sandbox
    assert "used `shout` of MCP server `echo`" in texts(ctx, session, EventKind.STEP)


def test_a_repository_server_gets_only_settings_the_operator_offers(
    settings: Settings, redis: Redis, fake: FakeAnthropic, make_repo: MakeRepo
) -> None:
    declared = {
        "echo": {
            "command": PYTHON,
            "args": list(LAUNCH),
            "env_from": {"ECHO_TOKEN": "ANTHROPIC_API_KEY"},
        }
    }
    yml = "mcp: " + json.dumps(declared) + "\n"
    ctx = runtime.install(agent_settings(settings, fake), redis)
    fake.script(Reply.tool_use(TOOL, {"text": "hi"}), Reply.text("Done."))
    session = start_session(ctx, make_repo(files={".repobox.yml": yml}), "shout hi")

    [(is_error, content)] = results_text(fake, 1)
    assert not is_error and content == "HI (init bwrap, no token)"
    warnings = texts(ctx, session, EventKind.WARNING)
    assert (
        "⚠️ MCP server `echo` asks for ANTHROPIC_API_KEY, which the operator does not offer "
        "(REPOBOX_MCP_ENV)"
    ) in warnings
