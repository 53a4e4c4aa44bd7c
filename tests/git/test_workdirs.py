"""Workdirs: the pool makes warm sessions instant, and idle sessions are cleaned up."""

from __future__ import annotations

from pathlib import Path

from bot.sessions.events import EventKind, ProgressStream
from bot.sessions.session import Person, SessionState, Thread
from jobs import session_jobs
from jobs.steps.context import JobContext
from jobs.worker import runtime
from tests.conftest import MakeRepo, git, run_jobs

CAROL = Person("U3", "Carol")


def ready_event(ctx: JobContext, session_id: str) -> dict[str, object]:
    events = ProgressStream(ctx.redis, session_id).read()
    return next(e.data for e in events if e.kind is EventKind.STATE and e.text == "ready")


def test_second_session_takes_a_pooled_workdir_switched_to_the_newest_base(
    ctx: JobContext, make_repo: MakeRepo, tmp_path: Path
) -> None:
    origin = make_repo(files={"a.txt": "1\n", "b.txt": "same\n"})
    first = ctx.service.run(
        lambda svc: svc.start(
            repo=str(origin),
            base=None,
            prompt=None,
            thread=Thread("cli", "1"),
            person=CAROL,
            request_id="1",
        )
    ).session
    run_jobs(ctx)  # init, then the pool refill
    assert ready_event(ctx, first.id)["pooled"] is False
    assert ctx.workdirs.pool_count(next(p.name for p in ctx.settings.pool_dir.iterdir())) == 1

    seed = tmp_path / "seeds" / "origin"  # upstream moves on after the pool was filled
    (seed / "a.txt").write_text("2\n")
    git("commit", "--quiet", "-am", "bump", cwd=seed)
    git("push", "--quiet", str(origin), "main", cwd=seed)

    second = ctx.service.run(
        lambda svc: svc.start(
            repo=str(origin),
            base=None,
            prompt=None,
            thread=Thread("cli", "2"),
            person=CAROL,
            request_id="2",
        )
    ).session
    run_jobs(ctx)
    assert ready_event(ctx, second.id)["pooled"] is True
    workdir = Path(ctx.service.sessions.get(second.id).workdir or "")
    assert (workdir / "a.txt").read_text() == "2\n"
    assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=workdir).strip() == second.work_branch
    assert git("status", "--porcelain", cwd=workdir) == ""


def test_idle_sessions_are_archived_and_their_workdirs_removed(
    ctx: JobContext, make_repo: MakeRepo
) -> None:
    origin = make_repo()
    session = ctx.service.run(
        lambda svc: svc.start(
            repo=str(origin),
            base=None,
            prompt="write x.txt: 1",
            thread=Thread("cli", "i"),
            person=CAROL,
            request_id="i",
        )
    ).session
    run_jobs(ctx)
    workdir = Path(ctx.service.sessions.get(session.id).workdir or "")
    assert workdir.exists()

    assert session_jobs.archive_idle() == 0  # active a moment ago: kept
    ctx = runtime.install(ctx.settings.with_changes(idle_archive_after=0, pool_size=0), ctx.redis)
    assert session_jobs.archive_idle() == 1
    run_jobs(ctx)
    archived = ctx.service.sessions.get(session.id)
    assert archived.state is SessionState.ARCHIVED and archived.workdir is None
    assert not workdir.exists()
    assert ctx.service.sessions.find_by_thread("cli", "i") is None
