"""The demo agent (`REPOBOX_AGENT=demo`) through the real pipeline: a real RQ worker, real
git, real checks, the built-in agent's tools (and bubblewrap where it works here).

What is asserted is what people see: the steps in the log, the files on the work branch,
the commit's subject, the checks' verdict, the comparison, the doctor's line, and the
messages that point a person with no account to `./dev demo`.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from redis import Redis

from bot.commands.executor import Asker, Executor, Queued
from bot.commands.grammar import parse
from bot.compare.outcome import Comparison
from bot.core.config import Settings
from bot.core.errors import ConfigError
from bot.doctor.agent import check_agent
from bot.security.sandbox import probe
from bot.sessions.events import EventKind, ProgressEvent, ProgressStream
from bot.sessions.results import RunResult
from bot.sessions.session import Session
from jobs.steps.context import JobContext
from jobs.worker import runtime
from tests.agent_support import ALICE, start_session, texts
from tests.conftest import MakeRepo, git, run_jobs

HELLO = 'def greet(name):\n    return "Hello, " + name + "!"\n\n\nprint(greet("world"))\n'
TEST_HELLO = (
    "import unittest\n\nfrom hello import greet\n\n\n"
    "class GreetTest(unittest.TestCase):\n"
    "    def test_greet(self):\n"
    '        self.assertEqual(greet("Ada"), "Hello, Ada!")\n'
)
CHECKS = "checks:\n  - name: tests\n    run: python3 -m unittest -q\n    required: true\n"
SAMPLE = {"hello.py": HELLO, "test_hello.py": TEST_HELLO, "README.md": "# hello\n"}


@pytest.fixture
def dctx(settings: Settings, redis: Redis) -> JobContext:
    return runtime.install(settings.with_changes(agent="demo"), redis)


def say(ctx: JobContext, session: Session, text: str) -> Queued:
    """A prompt typed in the session's thread, run to its end by a real worker."""
    reply = ctx.service.run(
        lambda svc: Executor(svc).execute(parse(text), session, Asker(ALICE, uuid.uuid4().hex))
    )
    assert isinstance(reply, Queued)
    run_jobs(ctx)
    return reply


def of_prompt(ctx: JobContext, session: Session, prompt_id: str) -> list[ProgressEvent]:
    found = ProgressStream(ctx.redis, session.id).read(count=10_000)
    return [e for e in found if e.prompt_id == prompt_id]


def at_head(session: Session, path: str) -> str:
    return git("show", f"HEAD:{path}", cwd=Path(session.workdir or ""))


def test_add_writes_a_file_from_the_words_with_the_built_in_agents_steps(
    dctx: JobContext, make_repo: MakeRepo
) -> None:
    session = start_session(dctx, make_repo(files=SAMPLE), "add a greeting")

    [intro] = texts(dctx, session, EventKind.TEXT)
    assert intro.startswith("Demo agent (no AI): no model is called.")
    steps = texts(dctx, session, EventKind.STEP)
    assert steps[:2] == ["listed the repository", "created greeting.md (+3)"]
    assert steps[2].startswith("ran git status --short → exit 0")
    assert "?? greeting.md" in texts(dctx, session, EventKind.OUTPUT)
    [result] = texts(dctx, session, EventKind.RESULT)
    assert result == "Created greeting.md (demo agent, no AI)."
    assert at_head(session, "greeting.md") == (
        "# Greeting\n\nWritten by the demo agent (no AI) for the prompt “add a greeting”.\n"
    )
    subject = git("log", "-1", "--format=%s", cwd=Path(session.workdir or "")).strip()
    assert subject == "Create greeting.md (demo agent, no AI)"


@pytest.mark.skipif(not probe().usable, reason="bubblewrap cannot make namespaces here")
def test_rename_remove_and_checks_in_the_sandbox(
    settings: Settings, redis: Redis, make_repo: MakeRepo
) -> None:
    ctx = runtime.install(settings.with_changes(agent="demo", sandbox="require"), redis)
    session = start_session(
        ctx, make_repo(files={**SAMPLE, ".repobox.yml": CHECKS}), "add notes.txt"
    )
    assert at_head(session, "notes.txt") == "- add notes.txt\n"

    renamed = say(ctx, session, "rename greet to welcome")
    events = of_prompt(ctx, session, renamed.submitted.prompt.id)
    assert "wrote hello.py (+2 −2)" in [e.text for e in events]
    [end] = [e for e in events if e.kind is EventKind.RESULT]
    assert end.text.startswith("Replaced `greet` with `welcome` in 2 files (demo agent, no AI).")
    assert "✅ tests passed" in end.text  # the checks ran on the checkpoint, and still pass
    assert "def welcome(name):" in at_head(session, "hello.py")
    assert "from hello import welcome" in at_head(session, "test_hello.py")

    removed = say(ctx, session, "please remove notes.txt and drop the lines that mention world")
    events = of_prompt(ctx, session, removed.submitted.prompt.id)
    steps = [e.text for e in events if e.kind is EventKind.STEP]
    assert any(s.startswith("ran rm -f -- notes.txt → exit 0") for s in steps)  # bubblewrap's
    workdir = Path(session.workdir or "")
    assert "notes.txt" not in git("ls-files", cwd=workdir)
    assert "world" not in at_head(session, "hello.py")
    [end] = [e for e in events if e.kind is EventKind.RESULT]
    assert end.text.startswith(
        "Removed notes.txt and removed the lines that mention `world` from 1 file"
    )


def test_the_tools_confinement_holds_for_the_demo_too(
    dctx: JobContext, make_repo: MakeRepo
) -> None:
    session = start_session(dctx, make_repo(files=SAMPLE), "add server.pem; remove ../../etc/hosts")

    steps = texts(dctx, session, EventKind.STEP)
    assert any(s.startswith("write server.pem ✗") for s in steps)
    infos = texts(dctx, session, EventKind.INFO)
    assert "Nothing in the repository mentions `etc/hosts`." in infos
    files = git("ls-files", cwd=Path(session.workdir or "")).split()
    assert sorted(files) == ["README.md", "hello.py", "test_hello.py"]
    [result] = texts(dctx, session, EventKind.RESULT)
    assert result == "Changed nothing: no rule of the demo agent (no AI) matched these words."


def test_a_200_kb_prompt_runs(dctx: JobContext, make_repo: MakeRepo) -> None:
    words = "fix the login redirect " + "and keep the old links working " * 7_000
    assert len(words) > 200_000
    session = start_session(dctx, make_repo(files=SAMPLE), words)

    [result] = texts(dctx, session, EventKind.RESULT)
    assert result == (
        "Created NOTES.md and added 5 lines to NOTES.md (demo agent, no AI).\n\n"
        f"The demo reads only the first clauses of a prompt ({len(words.strip()):,} characters)."
    )
    notes = at_head(session, "NOTES.md")
    assert notes.startswith("# Notes\n\nWhat the demo agent (no AI) was asked:\n\n")
    assert "- fix the login redirect\n- keep the old links working\n" in notes


def test_compare_demo_demo_gives_each_candidate_its_own_result_then_pick(
    dctx: JobContext, make_repo: MakeRepo
) -> None:
    session = start_session(dctx, make_repo(files={**SAMPLE, ".repobox.yml": CHECKS}), "")
    queued = say(dctx, session, "compare demo,demo add a greeting")

    events = of_prompt(dctx, session, queued.submitted.prompt.id)
    [end] = [e for e in events if e.kind is EventKind.RESULT and e.candidate is None]
    assert end.text.startswith("Compared 2 candidates (demo, demo) in ")
    assert "1. demo: ✅ checks pass" in end.text and "2. demo: ✅ checks pass" in end.text
    comparison = Comparison.of(RunResult.from_dict(end.data))
    assert comparison is not None
    summaries = [c.summary.splitlines()[0] for c in comparison.candidates]
    assert summaries == [
        "Created greeting.md (demo agent, no AI).",
        "Created greeting.md (demo agent variant 2, no AI).",
    ]

    say(dctx, session, "pick 2")
    assert at_head(session, "greeting.md") == (
        "# Greeting\n\n- greeting\n\nOne line per word of “add a greeting” (demo agent, "
        "variant 2).\n"
    )


def test_without_a_key_the_error_points_to_the_demo_and_where_the_agent_is_chosen(
    settings: Settings, redis: Redis, make_repo: MakeRepo
) -> None:
    ctx = runtime.install(settings.with_changes(agent="anthropic", anthropic_api_key=None), redis)
    session = start_session(ctx, make_repo(), "hello")

    [error] = texts(ctx, session, EventKind.ERROR)
    assert error == (
        "The built-in agent needs ANTHROPIC_API_KEY, or another agent (REPOBOX_AGENT=command "
        "with REPOBOX_AGENT_COMMAND). The agent is chosen where `./dev run` starts: set it "
        "there and restart `./dev run` (setting it in another terminal changes nothing). To "
        "try Repobox with no account: `./dev demo` (or `REPOBOX_AGENT=demo ./dev run`)."
    )


def test_settings_and_doctor_name_the_demo() -> None:
    demo = Settings.from_env({"REPOBOX_AGENT": "demo"})
    assert demo.compare_default == ("demo", "demo")  # `compare <prompt>` needs no key either
    assert check_agent(demo).line == (
        "ok   Agent: demo agent (no AI): fixed rules on the prompt's words, no account"
    )
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"REPOBOX_AGENT": "claud"})
    assert str(raised.value) == (
        "REPOBOX_AGENT must be anthropic, command or demo, got 'claud'. To try Repobox with no "
        "account: `./dev demo` (or `REPOBOX_AGENT=demo ./dev run`)."
    )


def test_failing_checks_are_said_fix_the_checks_is_declined_and_undo_takes_it_back(
    dctx: JobContext, make_repo: MakeRepo
) -> None:
    sample = {**SAMPLE, ".repobox.yml": CHECKS}
    session = start_session(dctx, make_repo(files=sample), "remove the lines that mention Hello")
    [result] = texts(dctx, session, EventKind.RESULT)
    assert result.startswith("Removed the lines that mention `Hello` from 3 files")
    assert "❌ tests failed" in result

    fix = say(dctx, session, "fix the checks")
    [end] = [e for e in of_prompt(dctx, session, fix.submitted.prompt.id) if e.ends_prompt]
    assert end.text.startswith("The demo agent (no AI) cannot fix failing checks")

    say(dctx, session, "undo")
    assert at_head(session, "hello.py") == HELLO
    assert at_head(session, "test_hello.py") == TEST_HELLO
