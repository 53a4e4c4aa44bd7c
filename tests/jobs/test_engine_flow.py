"""The session engine end to end with an in-process RQ worker: what a user would see."""

from __future__ import annotations

import shlex
from pathlib import Path

from bot.sessions.events import EventKind, ProgressStream
from bot.sessions.prompts import PromptState
from bot.sessions.session import Person, SessionState, Thread
from jobs.steps.context import JobContext
from tests.conftest import MakeRepo, git, run_jobs

ALICE = Person("U1", "Alice", "alice@example.com")


def start(ctx: JobContext, repo: Path, prompt: str | None, request: str = "r1"):
    return ctx.service.run(
        lambda svc: svc.start(
            repo=str(repo),
            base=None,
            prompt=prompt,
            thread=Thread("cli", request),
            person=ALICE,
            request_id=request,
        )
    )


def test_prompt_runs_checkpoint_and_ship_pushes_branch(
    ctx: JobContext, make_repo: MakeRepo
) -> None:
    origin = make_repo(files={"README.md": "# Demo\n"})
    started = start(ctx, origin, "write notes.txt: hello")
    run_jobs(ctx)
    session = ctx.service.sessions.get(started.session.id)
    assert session.state is SessionState.READY
    assert (Path(session.workdir or "") / "notes.txt").read_text() == "hello\n"

    ctx.service.run(
        lambda svc: svc.submit(session, "append notes.txt: world", ALICE, request_id="r2")
    )
    ctx.service.run(lambda svc: svc.ship(session, ALICE, request_id="r3"))
    run_jobs(ctx)

    session = ctx.service.sessions.get(session.id)
    assert session.state is SessionState.PUSHED
    assert git("show", f"{session.work_branch}:notes.txt", cwd=origin) == "hello\nworld\n"
    log = git(
        "log",
        "--format=%s|%an|%(trailers:key=Co-authored-by,valueonly)",
        session.work_branch,
        cwd=origin,
    )
    subjects = [line.split("|")[0] for line in log.strip().splitlines() if "|" in line]
    # a command agent writes no summary: the prompt's first line, never its output
    assert subjects[:3] == ["Append notes.txt: world", "Write notes.txt: hello", "initial commit"]
    assert "Repobox|Alice <alice@example.com>" in log
    kinds = [e.kind for e in ProgressStream(ctx.redis, session.id).read()]
    assert kinds.count(EventKind.RESULT) == 2 and EventKind.SHIPPED in kinds


def test_a_command_agents_commit_subject_is_the_prompt_not_a_line_it_printed(
    ctx: JobContext, make_repo: MakeRepo
) -> None:
    script = "cat >/dev/null; echo docs >> README.md; echo 'Return \"hello \" + name'"
    ctx.settings.__dict__["agent_command"] = f"sh -c {shlex.quote(script)} agent"
    origin = make_repo(files={"README.md": "# Demo\n"})
    started = start(ctx, origin, "also document it")
    run_jobs(ctx)
    session = ctx.service.sessions.get(started.session.id)
    ctx.service.run(
        lambda svc: svc.submit(session, "the greeting lacks a name\nsee #4", ALICE, request_id="2")
    )
    run_jobs(ctx)

    workdir = Path(session.workdir or "")
    subjects = git("log", "--format=%s", "-3", cwd=workdir).splitlines()
    assert subjects == ["The greeting lacks a name", "Document it", "initial commit"]
    results = [
        e for e in ProgressStream(ctx.redis, session.id).read() if e.kind is EventKind.RESULT
    ]
    assert results[0].text == 'Return "hello " + name'  # the reply still shows what it said


def test_undo_of_a_run_that_added_lines_says_it_removed_them(
    ctx: JobContext, make_repo: MakeRepo
) -> None:
    origin = make_repo(files={"README.md": "# Demo\n"})
    prompt = "\n".join(
        [
            *(f"append a.txt: {n}" for n in range(4)),
            "write b.txt: x",
            "append b.txt: y",
            "append b.txt: z",
        ]
    )
    started = start(ctx, origin, prompt)
    run_jobs(ctx)
    session = ctx.service.sessions.get(started.session.id)
    ctx.service.run(lambda svc: svc.undo(session, ALICE, request_id="u"))
    run_jobs(ctx)

    ends = [e for e in ProgressStream(ctx.redis, session.id).read() if e.kind is EventKind.RESULT]
    assert ends[0].data["diffstat"] == "2 files changed (+7 −0)"
    assert ends[1].text.endswith("(it was not pushed yet): 2 files changed (+0 −7).")
    assert ends[1].data["diffstat"] == "2 files changed (+0 −7)"


def test_unknown_branch_fails_session_with_clear_error(
    ctx: JobContext, make_repo: MakeRepo
) -> None:
    origin = make_repo()
    started = ctx.service.run(
        lambda svc: svc.start(
            repo=str(origin),
            base="nope",
            prompt="x",
            thread=Thread("cli", "t"),
            person=ALICE,
            request_id="a",
        )
    )
    run_jobs(ctx)
    session = ctx.service.sessions.get(started.session.id)
    assert session.state is SessionState.FAILED
    assert session.error == "The repository has no branch `nope`."
    assert ctx.service.prompts.history(session.id)[0].state is PromptState.CANCELLED
