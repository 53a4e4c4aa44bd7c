"""The real Claude Code CLI (pinned, from npm) as Repobox's `command` agent, end to end.

Claude Code talks to the fake Anthropic API; sessions run through the real service, an
in-process RQ worker, real git and, for the `sandbox` variants, bubblewrap. What is
checked is what people see: the steps and notes in the session's stream, the commits,
and that no process is left behind.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from bot.core.config import Settings
from bot.security.sandbox import probe
from bot.sessions.events import EventKind
from bot.sessions.prompts import PromptState
from bot.sessions.session import Session
from jobs.steps.context import JobContext
from jobs.worker import runtime
from tests.agent_support import ALICE, committed, events, start_session, texts
from tests.agents.test_long_prompts import BIG, long_prompt
from tests.claude_cli import VERSION, claude_bin_dir
from tests.conftest import ROOT, MakeRepo, env_for, run_jobs, wait_until
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.process_marks import marked

KEY = "sk-ant-test-claude-0123456789"
WHERE = [
    pytest.param("off", id="bare"),
    pytest.param(
        "require",
        id="sandbox",
        marks=pytest.mark.skipif(
            not probe().usable, reason=f"bubblewrap is not usable here: {probe().detail}"
        ),
    ),
]
_tags = itertools.count(71_001)


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(api_key=KEY) as server:
        yield server


@pytest.fixture
def claude_env(
    fake: FakeAnthropic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The environment a worker would have: `claude` on PATH, its key and the fake's URL."""
    home = tmp_path / "home"
    home.mkdir()
    values = {
        "PATH": f"{claude_bin_dir()}:{os.environ['PATH']}",
        "HOME": str(home),
        "ANTHROPIC_API_KEY": KEY,
        "ANTHROPIC_BASE_URL": fake.url,
        "CLAUDE_CODE_MAX_RETRIES": "2",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def claude_ctx(settings: Settings, redis: Redis, sandbox: str, **changes: Any) -> JobContext:
    configured = settings.with_changes(
        agent="command",
        agent_command="claude-code",
        sandbox=sandbox,
        agent_pass_env=frozenset(
            {"ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "CLAUDE_CODE_MAX_RETRIES"}
        ),
        **changes,
    )
    return runtime.install(configured, redis)


def follow_up(ctx: JobContext, session: Session, prompt: str, request_id: str) -> Session:
    ctx.service.run(lambda svc: svc.submit(session, prompt, ALICE, request_id=request_id))
    run_jobs(ctx)
    return ctx.service.sessions.get(session.id)


def user_text(request: dict[str, Any]) -> str:
    """Everything the person's side of a request said, as text."""
    parts = []
    for message in request["messages"]:
        if message["role"] != "user":
            continue
        content = message["content"]
        blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
        parts += [str(b.get("text", "")) for b in blocks if b.get("type") == "text"]
    return "\n".join(parts)


def loop_requests(fake: FakeAnthropic) -> list[dict[str, Any]]:
    return [r for r in fake.requests() if r.get("tools")]


def no_raw_json(ctx: JobContext, session: Session) -> None:
    for event in events(ctx, session):
        assert not event.text.lstrip().startswith("{"), event
        assert '"type":' not in event.text, event


@pytest.mark.parametrize("sandbox", WHERE)
def test_a_dash_prompt_writes_and_runs_and_the_next_prompt_continues_the_conversation(
    settings: Settings,
    redis: Redis,
    fake: FakeAnthropic,
    claude_env: dict[str, str],
    make_repo: MakeRepo,
    sandbox: str,
) -> None:
    ctx = claude_ctx(settings, redis, sandbox)
    write = "python3 -c \"open('ran.txt', 'w').write('ran')\""
    seen: list[str] = []

    def remembers(body: dict[str, Any]) -> Reply:
        seen.append(user_text(body))
        return Reply.text("Earlier you asked for hello.txt; it says hi.")

    fake.script(
        Reply.tool_use("Write", {"file_path": "hello.txt", "content": "hi\n"}, text="Writing."),
        Reply.tool_use("Bash", {"command": "cat hello.txt", "description": "Show it"}),
        Reply.tool_use("Bash", {"command": write, "description": "Record the run"}),
        Reply.text("Wrote hello.txt."),
        remembers,
    )
    session = start_session(ctx, make_repo(), "- write hello.txt, show it, record the run")

    assert "- write hello.txt, show it, record the run" in user_text(loop_requests(fake)[0])
    mode = "bypassPermissions" if sandbox == "require" else "acceptEdits"
    info = texts(ctx, session, EventKind.INFO)
    assert f"Claude Code {VERSION} started (claude-opus-4-8[1m], permissions: {mode})" in info
    steps = texts(ctx, session, EventKind.STEP)
    assert steps[0] == "started `claude`" + (" in the sandbox" if sandbox == "require" else "")
    assert steps[1:] == ["wrote hello.txt", "ran `cat hello.txt`", f"ran `{write}`"]
    assert "→ hi" in texts(ctx, session, EventKind.OUTPUT)
    assert committed(session, "hello.txt") == "hi\n"
    warned = texts(ctx, session, EventKind.WARNING)
    denied = [t for t in warned if t.startswith("Claude Code was not allowed")]
    if sandbox == "require":  # the sandbox is the boundary: the command ran
        assert committed(session, "ran.txt") == "ran" and denied == []
    else:  # acceptEdits refuses commands that are not read-only, and says so
        assert denied == [
            f"Claude Code was not allowed: ran `{write}` (outside the sandbox Claude Code runs "
            "with acceptEdits, which refuses commands that are not read-only; run Repobox "
            "with bubblewrap, or allow the tool in REPOBOX_CLAUDE_ARGS)"
        ]
    [result] = events(ctx, session, EventKind.RESULT)
    assert result.text == "Wrote hello.txt."
    assert result.data["cost_usd"] > 0 and "claude-opus-4-8[1m]" in result.data["models"]
    assert session.agent_conversation

    later = follow_up(ctx, session, "what did I ask for first?", "second")
    assert "- write hello.txt, show it, record the run" in seen[0]  # the resumed conversation
    assert "Earlier in this session" not in seen[0]  # not re-told: remembered
    assert later.agent_conversation
    assert not [t for t in texts(ctx, later, EventKind.INFO) if t.startswith("Could not resume")]
    no_raw_json(ctx, later)
    fake.assert_done()


@pytest.mark.parametrize("sandbox", WHERE)
def test_a_200_kb_prompt_runs_with_the_claude_code_preset(
    settings: Settings,
    redis: Redis,
    fake: FakeAnthropic,
    claude_env: dict[str, str],
    make_repo: MakeRepo,
    sandbox: str,
) -> None:
    """The prompt comes on stdin (`-p` with no prompt argument), so no 128 KiB cap."""
    ctx = claude_ctx(settings, redis, sandbox)
    fake.script(
        Reply.tool_use("Write", {"file_path": "hello.txt", "content": "hi\n"}),
        Reply.text("Wrote hello.txt."),
    )
    text = long_prompt("--version: write hello.txt")
    session = start_session(ctx, make_repo(), text)

    asked = user_text(loop_requests(fake)[0])
    assert len(text) == BIG and text in asked  # all of it, leading dashes included
    [result] = events(ctx, session, EventKind.RESULT)
    assert result.text == "Wrote hello.txt."
    assert committed(session, "hello.txt") == "hi\n"


@pytest.mark.parametrize("sandbox", WHERE)
def test_a_10_kb_file_is_read_and_edited_with_no_raw_json_shown(
    settings: Settings,
    redis: Redis,
    fake: FakeAnthropic,
    claude_env: dict[str, str],
    make_repo: MakeRepo,
    sandbox: str,
) -> None:
    ctx = claude_ctx(settings, redis, sandbox)
    big = "".join(
        f"line {n:04d}: the quick brown fox jumps over the lazy dog\n" for n in range(200)
    )
    fake.script(
        Reply.tool_use("Read", {"file_path": "big.txt"}),
        Reply.tool_use(
            "Edit", {"file_path": "big.txt", "old_string": "line 0100:", "new_string": "LINE 100:"}
        ),
        Reply.text("Edited big.txt."),
    )
    session = start_session(ctx, make_repo(files={"big.txt": big}), "edit line 100")

    read = fake.tool_results(loop_requests(fake)[1])
    assert len(json.dumps(read)) > 10_000  # the line Claude Code printed was longer still
    steps = texts(ctx, session, EventKind.STEP)
    assert steps[1:] == ["read big.txt", "edited big.txt"]
    assert "→ 1 line 0000: the quick brown fox jumps over the lazy dog (+200 lines)" in texts(
        ctx, session, EventKind.OUTPUT
    )
    assert committed(session, "big.txt") == big.replace("line 0100:", "LINE 100:")
    no_raw_json(ctx, session)


@pytest.mark.parametrize("sandbox", WHERE)
def test_cancel_during_a_long_bash_command_leaves_no_process(
    settings: Settings,
    redis: Redis,
    fake: FakeAnthropic,
    claude_env: dict[str, str],
    make_repo: MakeRepo,
    sandbox: str,
) -> None:
    tag = next(_tags) * 10_000_000 + os.getpid()  # unique across test runs on the machine
    ctx = claude_ctx(settings, redis, sandbox, claude_args="--allowedTools Bash")
    command = f"sleep {tag}1 & setsid sleep {tag}2 & sleep {tag}3"
    fake.script(Reply.tool_use("Bash", {"command": command, "description": "Wait"}))

    session = start_session(ctx, make_repo(), "wait a long time", run=False)

    def cancel_when_running() -> None:
        wait_until(lambda: len(marked(tag)) == 3, timeout=30, what="the sleeps to start")
        ctx.service.run(lambda svc: svc.cancel(ctx.service.sessions.get(session.id), ALICE))

    canceller = threading.Thread(target=cancel_when_running)
    canceller.start()
    try:
        run_jobs(ctx)
    finally:
        canceller.join()
        leftovers = marked(tag)
        for pid in leftovers:
            os.kill(pid, 9)
    assert leftovers == []
    [prompt] = ctx.service.prompts.history(session.id)
    assert prompt.state is PromptState.CANCELLED
    assert texts(ctx, session, EventKind.STEP)[1] == f"ran `{command}`"


@pytest.mark.parametrize("sandbox", WHERE)
def test_a_wrong_key_shows_each_retry_and_a_hint(
    settings: Settings,
    redis: Redis,
    fake: FakeAnthropic,
    claude_env: dict[str, str],
    make_repo: MakeRepo,
    monkeypatch: pytest.MonkeyPatch,
    sandbox: str,
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-wrong-000000000")
    ctx = claude_ctx(settings, redis, sandbox)
    session = start_session(ctx, make_repo(), "hello")

    retries = [t for t in texts(ctx, session, EventKind.INFO) if t.startswith("API error")]
    assert [r.split(" in ")[0] for r in retries] == [
        "API error 401 (authentication_failed); retry 1 of 2",
        "API error 401 (authentication_failed); retry 2 of 2",
    ]
    assert all(
        r.endswith("Hint: the API key was refused: check ANTHROPIC_API_KEY") for r in retries
    )
    [error] = texts(ctx, session, EventKind.ERROR)
    assert error.startswith("The agent reported an error: Invalid API key")
    assert [c.status for c in fake.calls_to("/v1/messages")] == [401, 401, 401]


def test_a_lost_conversation_starts_afresh_with_the_sessions_history(
    settings: Settings,
    redis: Redis,
    fake: FakeAnthropic,
    claude_env: dict[str, str],
    make_repo: MakeRepo,
) -> None:
    ctx = claude_ctx(settings, redis, "off")
    told: list[str] = []

    def retold(body: dict[str, Any]) -> Reply:
        told.append(user_text(body))
        return Reply.text("Continuing from the history.")

    fake.script(Reply.text("Named it Ada."), retold)
    session = start_session(ctx, make_repo(), "call the project Ada")
    gone = "0b4bd5e5-8a70-4e0c-a1c2-6f6bc7d1a111"  # as after a move to another host
    ctx.service.sessions.update(session.id, agent_conversation=gone)

    later = follow_up(ctx, session, "what is the project called?", "second")
    [note] = [t for t in texts(ctx, later, EventKind.INFO) if t.startswith("Could not resume")]
    assert note == (
        "Could not resume this session's Claude Code conversation (No conversation found with "
        f"session ID: {gone}); started a new one with the session's earlier prompts as context."
    )
    assert "## Earlier in this session" in told[0] and "call the project Ada" in told[0]
    assert "Result: Named it Ada." in told[0]
    assert later.agent_conversation not in (None, gone)
    assert texts(ctx, later, EventKind.STEP).count("started `claude`") == 2  # one per prompt


def test_start_up_refuses_a_claude_the_sandbox_hides(settings: Settings, tmp_path: Path) -> None:
    if not probe().usable:
        pytest.skip(f"bubblewrap is not usable here: {probe().detail}")
    home = tmp_path / "home"
    (home / ".local" / "bin").mkdir(parents=True)
    cli = home / ".local" / "bin" / "claude"
    cli.write_text("#!/bin/sh\necho hi\n")
    cli.chmod(0o755)
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "worker", "--burst"],
        env=env_for(
            settings.with_changes(agent="command", agent_command="claude-code", sandbox="auto"),
            PATH=f"{cli.parent}:/usr/bin:/bin",
            HOME=str(home),
        ),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    error = done.stderr.strip().splitlines()[-1]
    assert error.startswith("error: The agent command `claude` is installed under /")
    assert error.endswith(
        "which the sandbox hides; install it system-wide (e.g. /usr/local/bin) or set "
        "REPOBOX_SANDBOX=off."
    )
