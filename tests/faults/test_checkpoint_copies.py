"""Checkpoint copies beyond the size cap: the thread is told; with REPOBOX_CHECKPOINT_PUSH=1
the work branch goes to the forge and a new host rebuilds from there, without it the new
host starts from the base and says the changes are lost."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.core.config import Settings
from bot.sessions.events import EventKind
from bot.sessions.hosts import HostRegistry
from bot.sessions.prompts import PromptState
from jobs.steps.context import JobContext
from jobs.worker import lost_hosts as hosts
from jobs.worker import runtime
from tests.conftest import MakeRepo, git, run_jobs
from tests.faults.support import events, new_session, prompt_no


@pytest.mark.parametrize("push", [True, False])
def test_a_checkpoint_over_the_cap_is_pushed_or_said_lost_and_the_new_host_says_which(
    settings: Settings, ctx: JobContext, make_repo: MakeRepo, tmp_path: Path, push: bool
) -> None:
    origin = make_repo()
    host_a = runtime.install(
        settings.with_changes(checkpoint_bundle_max=100, checkpoint_push=push), ctx.redis
    )
    session = new_session(host_a, origin, "write big.txt: more than a hundred bytes of bundle")
    run_jobs(host_a)
    assert prompt_no(host_a, session, 1).state is PromptState.DONE
    [note] = events(host_a, session, EventKind.INFO)
    assert "bytes, over the 100 bytes the database keeps" in note
    branches = git("for-each-ref", "--format=%(refname:short)", cwd=origin).split()
    if push:
        assert f"`{session.work_branch}` was pushed to the repository instead" in note
        assert session.work_branch in branches
    else:
        assert "the session resumes from the base branch" in note
        assert "REPOBOX_CHECKPOINT_PUSH=1" in note and session.work_branch not in branches

    HostRegistry(ctx.redis, 0.5).beat(settings.host, 1000.0)  # host a beat once, then died
    time.sleep(0.6)
    host_b = runtime.install(settings.with_changes(host="b", data_dir=tmp_path / "b"), ctx.redis)
    assert hosts.move_sessions_from_lost_hosts(host_b) == [session.id]
    run_jobs(host_b)

    moved = host_b.service.sessions.get(session.id)
    assert moved.host == "b" and moved.workdir == str(tmp_path / "b" / "workdirs" / session.id)
    said = events(host_b, session, EventKind.INFO)[-1]
    if push:
        assert said.startswith(f"Moved to b: the workdir was rebuilt from `{session.work_branch}`")
        assert (Path(moved.workdir) / "big.txt").exists()
    else:
        assert "starts again from the base" in said and "are lost" in said
        assert not (Path(moved.workdir) / "big.txt").exists()
