"""A `compare` run's candidates use the repository's MCP servers, as a single run does:
each candidate's model is offered the tool of the `.repobox.yml` server over HTTP, and its
call reaches the server with the operator's token."""

from __future__ import annotations

from redis import Redis

from bot.core.config import Settings
from jobs.worker import runtime
from tests.agent_support import agent_settings, fake, start_session
from tests.agents.mcp_http import TOKEN, HttpEcho
from tests.agents.test_mcp_http import TOOL, repo_yml
from tests.compare.test_compare import say
from tests.conftest import MakeRepo, run_jobs
from tests.fakes.anthropic import FakeAnthropic, Reply

__all__ = ["fake"]  # fixtures
MODELS = ("claude-sonnet-5-5", "claude-opus-5-5")


def test_each_candidate_calls_the_repositorys_mcp_server(
    settings: Settings, redis: Redis, fake: FakeAnthropic, make_repo: MakeRepo
) -> None:
    with HttpEcho().serving() as echo:
        changes = {"mcp_env": {"WEB_TOKEN": TOKEN}, "egress_allowed": ("127.0.0.1",)}
        ctx = runtime.install(agent_settings(settings, fake, **changes), redis)
        fake.script(Reply.text("Ready."))
        session = start_session(ctx, make_repo(files={".repobox.yml": repo_yml(echo.url)}), "hi")
        for model in MODELS:
            fake.script_for(model, Reply.tool_use(TOOL, {"text": model.upper()}), Reply.text("ok"))
        say(ctx, session, "compare sonnet,opus whisper your name")
        run_jobs(ctx)

    results = {
        r["model"]: [str(t["content"]) for t in fake.tool_results(r)]
        for r in fake.requests()
        if fake.tool_results(r)
    }
    assert results == {m: [f"{m} (over http, with token)"] for m in MODELS}
