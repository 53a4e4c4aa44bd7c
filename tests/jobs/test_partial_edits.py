"""A run that fails part-way: its edits are kept apart where the reply says, the workdir
goes back to its last checkpoint, and the next prompt's commit holds only its own work."""

from __future__ import annotations

from pathlib import Path

from bot.sessions.events import EventKind, ProgressStream
from bot.sessions.session import Person, Session, Thread
from jobs.steps.context import JobContext
from tests.conftest import MakeRepo, git, run_jobs

ALICE = Person("U1", "Alice", "alice@example.com")


def start(ctx: JobContext, origin: Path, prompt: str) -> Session:
    started = ctx.service.run(
        lambda svc: svc.start(
            repo=str(origin),
            base=None,
            prompt=prompt,
            thread=Thread("cli", "t1"),
            person=ALICE,
            request_id="r1",
        )
    )
    run_jobs(ctx)
    return ctx.service.sessions.get(started.session.id)


def test_an_agent_that_edits_then_fails_leaves_its_edits_apart_not_in_the_next_commit(
    ctx: JobContext, make_repo: MakeRepo
) -> None:
    origin = make_repo(files={"README.md": "# Demo\n"})
    session = start(ctx, origin, "write half.txt: started\nappend README.md: edited\nfail 3")
    workdir = Path(session.workdir or "")

    [failed] = [
        e for e in ProgressStream(ctx.redis, session.id).read() if e.kind is EventKind.ERROR
    ]
    ref = str(failed.data["partial"])
    assert failed.text.startswith("The agent command exited with code 3: giving up")
    assert (
        f"Its partial edits (2 files changed (+2 −0)) are kept apart as `{ref}`, not on the "
        "work branch: the next prompt starts from the last checkpoint without them" in failed.text
    )
    assert git("status", "--porcelain", cwd=workdir) == ""  # back at the last checkpoint
    assert git("rev-parse", "HEAD", cwd=workdir) == session.base_commit + "\n"
    assert (workdir / "README.md").read_text() == "# Demo\n"

    ctx.service.run(lambda svc: svc.submit(session, "write done.txt: yes", ALICE, request_id="2"))
    run_jobs(ctx)

    changed = git("show", "--name-only", "--format=", "HEAD", cwd=workdir).split()
    assert changed == ["done.txt"]  # only the next prompt's own work
    assert git("rev-parse", "HEAD~1", cwd=workdir) == session.base_commit + "\n"
    # and the partial edits are where the reply said, whole
    assert git("show", f"{ref}:half.txt", cwd=workdir) == "started\n"
    assert git("show", f"{ref}:README.md", cwd=workdir) == "# Demo\nedited\n"
    assert git("diff", "--name-only", "HEAD~1", ref, cwd=workdir).split() == [
        "README.md",
        "half.txt",
    ]


def test_a_checkpoint_git_cannot_write_is_said_and_not_folded_into_the_next_commit(
    ctx: JobContext, make_repo: MakeRepo
) -> None:
    """A real fault in `git add`: the index is locked (as a crashed git leaves it), so
    neither the checkpoint nor setting the edits apart can write. The reply says so, and
    the next run commits them apart, before and apart from its own work."""
    origin = make_repo(files={"README.md": "# Demo\n"})
    session = start(ctx, origin, "write a.txt: one\nwrite .git/index.lock: held")
    workdir = Path(session.workdir or "")
    [failed] = [
        e for e in ProgressStream(ctx.redis, session.id).read() if e.kind is EventKind.ERROR
    ]
    assert failed.text.startswith("The checkpoint could not be written (")
    assert "index.lock" in failed.text and "Its edits stay in the workdir" in failed.text

    (workdir / ".git" / "index.lock").unlink()  # the fault clears
    ctx.service.run(lambda svc: svc.submit(session, "write b.txt: two", ALICE, request_id="2"))
    run_jobs(ctx)

    def files(rev: str) -> list[str]:
        return git("show", "--name-only", "--format=", rev, cwd=workdir).split()

    assert files("HEAD") == ["b.txt"]  # the prompt's commit: its own work only
    assert git("log", "-1", "--format=%s", "HEAD~1", cwd=workdir).strip() == (
        "Work left by an interrupted run"
    )
    assert files("HEAD~1") == ["a.txt"]
