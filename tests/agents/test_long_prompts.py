"""A prompt of any accepted length reaches the agent, on stdin, never in argv or the
environment (each capped at 128 KiB per string by Linux)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from redis import Redis

from bot.core.config import Settings
from bot.security.sandbox import probe
from bot.sessions.events import EventKind
from jobs.steps.context import JobContext
from jobs.worker import runtime
from tests.agent_support import committed, start_session, texts, workdir
from tests.conftest import MakeRepo

BIG = 200 * 1024  # 200 KiB: over Linux's 128 KiB limit for one argument or variable

SANDBOXES = [
    pytest.param("off", id="bare"),
    pytest.param(
        "require",
        id="sandbox",
        marks=pytest.mark.skipif(
            not probe().usable, reason=f"bubblewrap is not usable here: {probe().detail}"
        ),
    ),
]


def long_prompt(first: str, size: int = BIG) -> str:
    """`first` (what the scripted agent does), then filler lines up to `BIG` characters."""
    filler = "echo this line only makes the prompt long, as a pasted log would\n"
    body = filler * (size // len(filler) + 1)
    return f"{first}\n{body}"[:size]


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_a_200_kb_prompt_runs_with_the_command_agent(
    settings: Settings, redis: Redis, make_repo: MakeRepo, sandbox: str
) -> None:
    """A shell agent (visible in the sandbox): stdin, `/dev/stdin` read again, and the file
    $REPOBOX_PROMPT_FILE names each hold the whole prompt."""
    script = 'cat > got.txt; cat /dev/stdin > again.txt; cp "$REPOBOX_PROMPT_FILE" own.txt'
    command = f"sh -c {shlex.quote(script + '; echo Did it')} agent"
    ctx = runtime.install(settings.with_changes(sandbox=sandbox, agent_command=command), redis)
    text = long_prompt("-rf --version: only words, never an option")
    session = start_session(ctx, make_repo(), text)

    assert not texts(ctx, session, EventKind.ERROR)
    assert texts(ctx, session, EventKind.RESULT) == ["Did it"]
    for name in ("got.txt", "again.txt", "own.txt"):
        assert committed(session, name) == text, name
    assert not (workdir(session) / ".git/repobox/prompt.txt").exists()  # removed after


def test_the_agent_sees_the_prompt_nowhere_but_stdin_and_its_file(
    ctx: JobContext, make_repo: MakeRepo, tmp_path: Path
) -> None:
    env = tmp_path / "env.txt"
    session = start_session(ctx, make_repo(), f"env {env}\nwrite a.txt: x --version")
    assert committed(session, "a.txt") == "x --version\n"
    seen = env.read_text()
    assert "REPOBOX_PROMPT=" not in seen and "write a.txt" not in seen
    assert "REPOBOX_PROMPT_FILE=" in seen
