"""Two worker hosts share one Valkey; one dies for good. Its session moves to the other host,
rebuilt from the mirror and the last checkpoint, and the queued prompts run there."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from rq import Queue
from rq.serializers import JSONSerializer

from bot.core.dispatch import RUN_QUEUE
from bot.sessions.events import EventKind
from bot.sessions.hosts import HostRegistry
from bot.sessions.prompts import PromptState, Submitted
from bot.sessions.session import SessionState
from jobs.steps.context import JobContext
from jobs.worker import lost_hosts as hosts
from tests.conftest import MakeRepo, WorkerProcess, run_jobs, wait_until
from tests.faults.support import BOB, events, kill_machine, new_session, prompt_no, wait_prompt


def test_a_lost_hosts_session_moves_and_its_queued_prompts_run_on_the_other_host(
    ctx: JobContext, make_repo: MakeRepo, start_worker: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    origin = make_repo()
    ran = tmp_path / "ran.log"  # every run appends here: a prompt run twice shows up twice
    timeouts = {"REPOBOX_HOST_TIMEOUT": "3"}  # a little slack over the 2 s run heartbeat
    host_a = start_worker(REPOBOX_HOST="host-a", REPOBOX_DATA_DIR=str(tmp_path / "a"), **timeouts)
    session = new_session(ctx, origin, f"write kept.txt: made on host a\nappend {ran}: 1")
    wait_prompt(ctx, session, 1, PromptState.DONE)
    assert ctx.service.sessions.get(session.id).host == "host-a"
    start_worker(REPOBOX_HOST="host-b", REPOBOX_DATA_DIR=str(tmp_path / "b"), **timeouts)

    pidfile = tmp_path / "agent.pid"
    doomed = f"pidfile {pidfile}\nappend {ran}: 2\nsleep 60\nwrite lost.txt: never"
    ctx.service.run(lambda svc: svc.submit(session, doomed, BOB, request_id="p2"))
    wait_until(pidfile.exists, what="prompt 2 to start on host a")

    def submit(n: int) -> Submitted:
        text = f"append {ran}: {n}\nappend queue.txt: {n}"
        return ctx.service.run(lambda svc: svc.submit(session, text, BOB, request_id=f"p{n}"))

    for n in (3, 4):
        queued = submit(n)
        assert queued.position == n - 1  # waiting behind the running prompt
    kill_machine(host_a, pidfile)

    wait_prompt(ctx, session, 4, PromptState.DONE, timeout=40)

    lost = prompt_no(ctx, session, 2)
    assert lost.state is PromptState.FAILED
    assert lost.error is not None and lost.error.startswith("Host lost:")
    assert "(host-a)" in lost.error and "send it again" in lost.error
    moved = ctx.service.sessions.get(session.id)
    assert moved.host == "host-b"
    assert moved.workdir == str(tmp_path / "b" / "workdirs" / session.id)
    workdir = Path(moved.workdir)
    assert (workdir / "kept.txt").read_text() == "made on host a\n"  # the checkpoint's files
    assert (workdir / "queue.txt").read_text() == "3\n4\n"
    assert not (workdir / "lost.txt").exists()
    assert ran.read_text().split() == ["1", "2", "3", "4"]  # each ran once; none ran twice
    info = events(ctx, session, EventKind.INFO)
    assert any("(host-a) stopped answering; moving the session to host-b" in t for t in info)
    assert any(t.startswith("Moved to host-b: the workdir was rebuilt from the last") for t in info)
    wait_until(
        lambda: ctx.service.sessions.get(session.id).state is SessionState.READY, what="ready"
    )
    assert ctx.service.run(lambda svc: svc.status(moved)).waiting == []


def test_a_set_up_that_died_with_its_host_is_done_again_on_another(
    ctx: JobContext, make_repo: MakeRepo
) -> None:
    origin = make_repo()
    session = new_session(ctx, origin, "write a.txt: 1")
    # Host "gone" took the set-up job, pinned the session, and died with the job half done.
    Queue(RUN_QUEUE, connection=ctx.redis, serializer=JSONSerializer).remove(f"init-{session.id}")
    gone = HostRegistry(ctx.redis, 0.5)
    gone.beat("gone", 1000.0)
    gone.pin("gone", session.id)
    time.sleep(0.6)  # its heartbeat expires

    assert hosts.move_sessions_from_lost_hosts(ctx) == [session.id]
    run_jobs(ctx)

    wait_prompt(ctx, session, 1, PromptState.DONE, timeout=5)
    assert ctx.service.sessions.get(session.id).host == ctx.settings.host
    assert "The machine setting this session up (gone) stopped answering" in " ".join(
        events(ctx, session, EventKind.INFO)
    )
    assert gone.pinned("gone") == []
