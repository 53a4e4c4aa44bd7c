"""Disk: below REPOBOX_MIN_FREE_MB new sessions and prompts are refused with a clear message,
and workdirs nobody needs are removed, oldest first. The threshold is set above the disk's
real free space, which forces the shortage without filling a disk."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from app import parse_args
from bot.core.errors import UserError
from bot.sessions.prompts import PromptState
from bot.sessions.session import SessionState
from handlers.cli import sessions as cli
from jobs.steps.context import JobContext
from jobs.worker import disk_space, runtime
from tests.conftest import MakeRepo, WorkerProcess, run_jobs, wait_until
from tests.faults.support import BOB, new_session, wait_prompt

HUGE = str(10**9)  # MB: more than any disk has free


def test_short_disk_refuses_new_work_clearly_and_frees_unneeded_workdirs(
    ctx: JobContext,
    make_repo: MakeRepo,
    start_worker: Callable[..., WorkerProcess],
    capsys: pytest.CaptureFixture[str],
) -> None:
    origin = make_repo()
    worker = start_worker()
    kept = new_session(ctx, origin, "write a.txt: 1", key="kept")
    wait_prompt(ctx, kept, 1, PromptState.DONE)
    pool = ctx.settings.pool_dir
    wait_until(lambda: any(pool.glob("*/*")), what="a spare workdir in the pool")
    worker.stop()

    short = start_worker(REPOBOX_MIN_FREE_MB=HUGE)
    wait_until(lambda: not any(pool.glob("*/[!.]*")), what="the pool's spare to be removed")
    workdir = Path(ctx.service.sessions.get(kept.id).workdir or "")
    assert (workdir / "a.txt").read_text() == "1\n"  # an open session's workdir stays

    # The person's side: the CLI refuses, saying why and what happens next.
    refusing = ctx.settings.with_changes(min_free_mb=float(HUGE))
    for argv in (["new", str(origin), "do it"], ["prompt", kept.id, "write b.txt: 2"]):
        code = cli.main(parse_args(["session", *argv]), refusing, io.StringIO())
        error = capsys.readouterr().err
        assert code == 1, argv
        assert "Repobox is short of disk space" in error and "MB free" in error, error
        assert "takes no new sessions or prompts until space is freed" in error
    assert "(test-host)" in error  # the prompt was checked against the session's host

    # A session accepted elsewhere fails to set up on the short host, with the same words.
    late = new_session(ctx, origin, key="late")
    wait_until(
        lambda: ctx.service.sessions.get(late.id).state is SessionState.FAILED,
        what="set-up on the short host to fail",
    )
    assert "short of disk space on test-host" in (ctx.service.sessions.get(late.id).error or "")
    short.stop()


def test_reclaim_removes_only_unneeded_workdirs_oldest_first(
    ctx: JobContext, make_repo: MakeRepo
) -> None:
    origin = make_repo()
    sessions = [new_session(ctx, origin, key=f"s{n}") for n in range(4)]
    run_jobs(ctx)
    paths = [Path(ctx.service.sessions.get(s.id).workdir or "") for s in sessions]
    ctx.service.run(
        lambda svc: svc.archive(sessions[0], BOB)
    )  # its retire job has not run: the workdir is left
    ctx.service.sessions.update(sessions[1].id, host="elsewhere")  # moved to another host
    for age, path in zip((300, 100, 200, 50), paths, strict=True):
        os.utime(path, (os.path.getmtime(path) - age,) * 2)
    spares = sorted(p for p in ctx.settings.pool_dir.glob("*/[!.]*"))

    short = runtime.build(ctx.settings.with_changes(min_free_mb=float(HUGE)), ctx.redis)
    assert disk_space.short_of_space(short)
    removed = disk_space.reclaim(short)

    assert set(removed) == {paths[0], paths[1], *spares}
    assert removed.index(paths[0]) < removed.index(paths[1])  # older first
    assert paths[2].is_dir() and paths[3].is_dir()  # open sessions keep theirs
    with pytest.raises(UserError, match="short of disk space"):
        short.service.run(
            lambda svc: svc.start(
                repo=str(origin),
                base=None,
                prompt=None,
                thread=sessions[0].thread,
                person=BOB,
                request_id="refused",
            )
        )
