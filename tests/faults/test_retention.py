"""Bounded data: idle sessions are archived within a minute of their deadline, archived ones
disappear with everything they own after the retention time, and listing reads one page."""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import partial
from pathlib import Path

from app import parse_args
from bot.commands.service import SessionService
from bot.core import keys
from bot.sessions import retention
from bot.sessions.events import EventKind, ProgressStream
from bot.sessions.prompts import PromptState
from bot.sessions.session import SessionState
from handlers.cli import sessions as cli
from jobs.steps.context import JobContext
from tests.conftest import MakeRepo, WorkerProcess, run_jobs, wait_until
from tests.faults.support import BOB, new_session, wait_prompt


def session_cli(ctx: JobContext, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main(parse_args(["session", *args]), ctx.settings, out)
    return code, out.getvalue()


def test_idle_sessions_are_archived_on_time_and_expire_with_all_they_own(
    ctx: JobContext, make_repo: MakeRepo, start_worker: Callable[..., WorkerProcess]
) -> None:
    origin = make_repo()
    idle_hours, retention_days = 0.001, 0.0001  # 3.6 s idle, 8.6 s retention
    start_worker(
        REPOBOX_IDLE_ARCHIVE_HOURS=str(idle_hours), REPOBOX_RETENTION_DAYS=str(retention_days)
    )
    session = new_session(ctx, origin, "write a.txt: 1")
    wait_prompt(ctx, session, 1, PromptState.DONE)
    ctx.service.run(
        lambda svc: svc.submit(session, "x" * 1000, BOB, request_id="p2")
    )  # a second prompt, its own keys
    wait_prompt(ctx, session, 2, PromptState.DONE)
    last_active = ctx.service.sessions.get(session.id).updated_at
    assert ctx.redis.keys(f"repobox:*{session.id}*")  # prompts, events, diff, checkpoint …

    wait_until(
        lambda: ctx.service.sessions.get(session.id).state is SessionState.ARCHIVED,
        timeout=30,
        what="the idle session to be archived",
    )
    archived_at = next(
        e.at
        for e in ProgressStream(ctx.redis, session.id).read()
        if e.kind is EventKind.STATE and e.text == "archived"
    )
    assert archived_at - (last_active + idle_hours * 3600) < 60  # within a minute of its deadline
    assert session_cli(ctx, "list") == (0, "no sessions\n")
    code, listed = session_cli(ctx, "list", "--all")
    assert code == 0 and listed.startswith(f"{session.id}  archived")
    wait_until(
        lambda: (
            not Path(str(ctx.service.sessions.get(session.id).workdir or "")).is_dir()
            or ctx.service.sessions.get(session.id).workdir is None
        ),
        what="the workdir to be retired",
    )

    wait_until(
        lambda: (
            not ctx.redis.keys(f"repobox:*{session.id}*")
            and not ctx.redis.zcard("repobox:sessions:archived")
        ),
        timeout=30,
        what="every key and index entry of the archived session to be gone",
    )
    assert session_cli(ctx, "list", "--all") == (0, "no sessions\n")
    assert ctx.service.sessions.find_by_thread("cli", "t1") is None


def test_session_list_reads_one_page_of_open_sessions(ctx: JobContext, make_repo: MakeRepo) -> None:
    origin = make_repo()
    made = [new_session(ctx, origin, key=f"t{n}") for n in range(57)]
    for archived in made[:3]:
        ctx.service.run(partial(SessionService.archive, session=archived, person=BOB))
    code, first = session_cli(ctx, "list")
    lines = first.splitlines()
    assert code == 0 and len(lines) == cli.PAGE + 1
    assert lines[-1] == "… 4 more: `./dev session list --page 2`"
    newest_first = [s.id for s in reversed(made[3:])]
    assert [line.split()[0] for line in lines[:-1]] == newest_first[: cli.PAGE]
    code, second = session_cli(ctx, "list", "--page", "2")
    assert [line.split()[0] for line in second.splitlines()] == newest_first[cli.PAGE :]
    code, everything = session_cli(ctx, "list", "--all", "--page", "2")
    assert [line.split()[1] for line in everything.splitlines()][-3:] == ["archived"] * 3


def test_retention_deletes_what_was_written_after_archiving_and_frees_the_thread(
    ctx: JobContext, make_repo: MakeRepo
) -> None:
    origin = make_repo()
    session = new_session(ctx, origin, "write a.txt: 1")
    run_jobs(ctx)
    ctx.service.run(lambda svc: svc.archive(session, BOB))
    run_jobs(ctx)
    assert all(ctx.redis.ttl(k) > 0 for k in ctx.redis.keys(f"repobox:*{session.id}*"))
    late = keys.surface_state(session.id, "slack")
    ctx.redis.hset(late, "card", "1")  # a surface writing after the archive: no expiry
    assert ctx.redis.ttl(late) == -1

    assert retention.purge_expired(ctx.redis, retention=0) == [session.id]
    assert ctx.redis.keys(f"repobox:*{session.id}*") == []
    assert ctx.service.sessions.recent(include_archived=True) == []
