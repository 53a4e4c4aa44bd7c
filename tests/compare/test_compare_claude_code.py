"""A comparison of a built-in agent's model against the real Claude Code CLI (the
`claude-code` preset), both talking to the fake Anthropic API: each runs in its own
workdir, the table names both, and picking Claude Code's adopts its file only."""

from __future__ import annotations

import uuid
from pathlib import Path

from redis import Redis

from bot.commands.executor import Asker, Executor, Queued
from bot.commands.grammar import parse
from bot.core.config import Settings
from bot.sessions.events import EventKind, ProgressStream
from jobs.worker import runtime
from tests.agent_support import ALICE, start_session
from tests.agents.test_claude_code_cli import KEY, claude_env, fake  # noqa: F401 - fixtures
from tests.compare_support import MODELS
from tests.conftest import MakeRepo, git, run_jobs
from tests.fakes.anthropic import FakeAnthropic, Reply


def test_sonnet_against_claude_code_then_pick_claude_code(
    settings: Settings,
    redis: Redis,
    fake: FakeAnthropic,  # noqa: F811
    claude_env: dict[str, str],  # noqa: F811
    make_repo: MakeRepo,
) -> None:
    ctx = runtime.install(
        settings.with_changes(
            agent="anthropic", anthropic_api_key=KEY, anthropic_base_url=fake.url, sandbox="off"
        ),
        redis,
    )
    session = start_session(ctx, make_repo(), "", run=True)
    fake.script_for(
        MODELS["sonnet"],
        Reply.tool_use("write_file", {"path": "sonnet.txt", "content": "from sonnet\n"}),
        Reply.text("Wrote sonnet.txt."),
    )
    fake.script(  # Claude Code asks with its own model: the common script is its
        Reply.tool_use("Write", {"file_path": "claude.txt", "content": "from claude\n"}),
        Reply.text("Wrote claude.txt."),
    )
    asker = Asker(ALICE, uuid.uuid4().hex)
    reply = ctx.service.run(
        lambda svc: Executor(svc).execute(
            parse("compare sonnet,claude-code write a file"), session, asker
        )
    )
    assert isinstance(reply, Queued)
    run_jobs(ctx)
    stream = ProgressStream(ctx.redis, session.id).read(count=10_000)
    [end] = [e for e in stream if e.kind is EventKind.RESULT and "comparison" in e.data]
    assert end.text.startswith("Compared 2 candidates (sonnet, claude-code)")
    steps = [e.text for e in stream if e.candidate == 2 and e.kind is EventKind.STEP]
    assert "wrote claude.txt" in steps  # Claude Code's own steps, in its column

    pick = ctx.service.run(
        lambda svc: Executor(svc).execute(parse("pick 2"), session, Asker(ALICE, uuid.uuid4().hex))
    )
    assert isinstance(pick, Queued)
    run_jobs(ctx)
    workdir = Path(session.workdir or "")
    assert git("show", "HEAD:claude.txt", cwd=workdir) == "from claude\n"
    assert "sonnet.txt" not in git("ls-tree", "--name-only", "HEAD", cwd=workdir)
    assert ctx.workdirs.forks_of(session.id) == []
