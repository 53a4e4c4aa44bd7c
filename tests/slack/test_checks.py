"""Checks on Slack: the verdicts in the thread, `ship it` refused naming the check, `undo`."""

from __future__ import annotations

from pathlib import Path

from jobs.steps.context import JobContext
from tests.checks_repo import files
from tests.conftest import MakeRepo, git, run_jobs
from tests.fakes.slack import FakeSlack
from tests.slack.support import CHANNEL, Workspace, session_of, thread_texts

BREAK = (
    "write calc.py: def add(a, b): return a - b\n"
    "write FIX.txt: write calc.py: def add(a, b): return a + b"
)


def test_verdicts_in_the_thread_ship_refused_then_undo(
    workspace: Workspace,
    slack: FakeSlack,
    slack_ctx: JobContext,
    make_repo: MakeRepo,
    tmp_path: Path,
) -> None:
    tree = files(slack_ctx.settings, tmp_path / "probe")
    origin = make_repo(files={**tree, ".repobox.yml": tree[".repobox.yml"].replace("1\n", "0\n")})
    workspace.slash(f"new {origin} {BREAK}")
    run_jobs(slack_ctx)
    (card,) = [m for m in slack.messages(CHANNEL) if not m.is_reply]
    session = session_of(slack_ctx, CHANNEL, card.ts)
    shown = "\n".join(thread_texts(slack, CHANNEL, card.ts))
    assert "❌ tests failed (exit 1" in shown

    workspace.reply(card.ts, "ship it")
    run_jobs(slack_ctx)
    refused = thread_texts(slack, CHANNEL, card.ts)[-1]
    assert "Not shipping: required checks fail" in refused and "tests failed" in refused
    assert "`fix the checks`" in refused

    workspace.reply(card.ts, "undo")
    run_jobs(slack_ctx)
    assert "by moving the work branch back" in "\n".join(thread_texts(slack, CHANNEL, card.ts))
    workdir = Path(slack_ctx.service.sessions.get(session.id).workdir or "")
    assert git("rev-parse", "HEAD", cwd=workdir) == git("rev-parse", "main", cwd=origin)
    assert not slack.unhandled
