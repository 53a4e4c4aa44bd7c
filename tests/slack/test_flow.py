"""Slack end to end: signed requests through the real Bolt app, jobs in real RQ workers,
the real slack_sdk client against the fake Slack. Assertions are on what people see."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from bot.sessions.session import SessionState
from jobs.steps.context import JobContext
from tests.conftest import MakeRepo, WorkerProcess, git, run_jobs
from tests.fakes.slack import FakeMessage, FakeSlack, render
from tests.slack.support import (
    ALICE,
    BOB,
    CHANNEL,
    INTERVAL,
    TOKEN,
    Workspace,
    only_session,
    session_of,
    thread_texts,
)


def first_text(message: FakeMessage) -> str:
    """What the message showed when it was posted, before any edit."""
    return render(message.params.get("blocks"), message.params.get("text"))


def assert_edits_spaced(slack: FakeSlack, interval: float) -> None:
    """Every bot message was edited at most once per interval (post included)."""
    for message in slack.messages(CHANNEL):
        if message.bot_id != slack.bot_id:
            continue
        times = [message.posted_at] + [e.at for e in slack.edits(CHANNEL, message.ts)]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert all(gap >= interval for gap in gaps), (message.visible_text, gaps)


def test_slash_new_then_thread_prompts_then_ship_it(
    workspace: Workspace, slack: FakeSlack, slack_ctx: JobContext, make_repo: MakeRepo
) -> None:
    origin = make_repo(files={"README.md": "# Demo\n"})

    answer = workspace.slash(f"new {origin} write notes.txt: hello")
    assert (answer.status, answer.text) == (200, "")
    run_jobs(slack_ctx)

    (card,) = [m for m in slack.messages(CHANNEL) if not m.is_reply]
    session = session_of(slack_ctx, CHANNEL, card.ts)  # bound to the card the bot posted
    assert card.bot_id == slack.bot_id
    for seen in (str(origin), f"<@{ALICE}>", session.work_branch, "Ready for a prompt"):
        assert seen in card.visible_text
    for label in ("Ship it", "Cancel", "Archive", "View log"):
        assert label in card.visible_text
    first_reply, done = slack.messages(CHANNEL, card.ts)
    assert "Working" in first_text(first_reply) or "Done" in first_text(first_reply)
    assert first_reply.visible_text.startswith("✅ *Done* in")
    assert "notes.txt` +1 −0" in first_reply.visible_text
    assert done.text.startswith(f"<@{ALICE}> ✅ Done:")

    # Two replies in the thread: the second waits its turn and says so.
    live, _ = workspace.reply(card.ts, "print 3\nsleep 0.6\nappend notes.txt: world")
    queued, _ = workspace.reply(card.ts, "append notes.txt: again")
    run_jobs(slack_ctx)
    replies = [m for m in slack.messages(CHANNEL, card.ts)[2:] if m.bot_id]
    notice = next(m for m in replies if "Waiting" in first_text(m))
    assert "runs after 1 item ahead of it" in first_text(notice)
    assert notice.visible_text.startswith("✅ *Done* in")
    progress = next(m for m in replies if "print 3" in m.visible_text)
    shown = [e.visible_text for e in slack.edits(CHANNEL, progress.ts)]
    assert any("Working…" in s and "line 3" in s for s in shown), shown  # live, edited in place
    assert shown[-1].startswith("✅ *Done* in")
    for message in (live, queued):
        assert slack.reactions(CHANNEL, message.ts) == ["white_check_mark"]
    assert sum(m.text.startswith(f"<@{BOB}> ✅ Done:") for m in replies) == 2

    _, answer = workspace.reply(card.ts, "ship it")
    assert answer.status == 200
    run_jobs(slack_ctx)
    session = slack_ctx.service.sessions.get(session.id)
    assert session.state is SessionState.PUSHED
    assert git("show", f"{session.work_branch}:notes.txt", cwd=origin) == "hello\nworld\nagain\n"
    shipped = slack.messages(CHANNEL, card.ts)[-1].text
    assert shipped == f"<@{BOB}> 🚢 Pushed `{session.work_branch}` to `{origin}`."
    assert "🚢 Pushed" in slack.message(CHANNEL, card.ts).visible_text
    assert_edits_spaced(slack, INTERVAL)
    assert not slack.unhandled


def test_mention_in_a_linked_channel_starts_a_session_in_its_thread(
    workspace: Workspace, slack: FakeSlack, slack_ctx: JobContext, make_repo: MakeRepo
) -> None:
    origin = make_repo()
    linked = workspace.slash(f"link {origin}")
    assert linked.json()["response_type"] == "in_channel"
    assert f"This channel now works on `{origin}`" in linked.json()["text"]

    message, answer = workspace.mention("write hello.txt: hi")
    assert answer.status == 200
    run_jobs(slack_ctx)

    session = session_of(slack_ctx, CHANNEL, message.ts)
    assert (session.repo, session.created_by.id) == (str(origin), BOB)
    card, progress, done = slack.messages(CHANNEL, message.ts)
    assert f"Repobox session `{session.id}`" in card.visible_text
    assert progress.visible_text.startswith("✅ *Done* in")
    assert "hello.txt` +1 −0" in progress.visible_text
    assert done.text.startswith(f"<@{BOB}> ✅ Done:")
    assert slack.reactions(CHANNEL, message.ts) == ["white_check_mark"]


def test_ship_button_pushes_and_shows_the_result_on_the_card(
    workspace: Workspace, slack: FakeSlack, slack_ctx: JobContext, make_repo: MakeRepo
) -> None:
    origin = make_repo()
    message, _ = workspace.mention(f"{origin} write a.txt: one")
    run_jobs(slack_ctx)
    card = slack.messages(CHANNEL, message.ts)[0]
    session = only_session(slack_ctx)

    answer = workspace.click("repobox_ship", session.id, message_ts=card.ts, user=ALICE)
    assert (answer.status, answer.text) == (200, "")
    run_jobs(slack_ctx)

    assert thread_texts(slack, CHANNEL, message.ts)[-1].startswith(f"<@{ALICE}> 🚢 Pushed")
    assert git("show", f"{session.work_branch}:a.txt", cwd=origin) == "one\n"
    assert "🚢 Pushed" in slack.message(CHANNEL, card.ts).visible_text


def test_cancel_button_stops_the_running_prompt(
    workspace: Workspace,
    slack: FakeSlack,
    slack_ctx: JobContext,
    make_repo: MakeRepo,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    settings = slack_ctx.settings
    start_worker(
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_API_URL=slack.api_url,
        REPOBOX_SLACK_EDIT_INTERVAL=str(INTERVAL),
        REPOBOX_SLACK_STREAMING="0",
        REPOBOX_PUBLIC_URL=settings.public_url,
        REPOBOX_SECRET_KEY=settings.secret_key or "",
    )
    message, _ = workspace.mention(f"{make_repo()} sleep 30")

    def reply_saying(text: str) -> FakeMessage | None:
        replies = slack.messages(CHANNEL, message.ts)
        return next((m for m in replies[1:2] if text in m.visible_text), None)

    running = slack.wait_for(lambda _: reply_saying("Working…"), timeout=20)
    card = slack.messages(CHANNEL, message.ts)[0]
    session = only_session(slack_ctx)
    assert workspace.click("repobox_cancel", session.id, message_ts=card.ts).status == 200

    slack.wait_for(lambda _: reply_saying("Cancelled"), timeout=20)
    slack.wait_for(lambda _: slack.reactions(CHANNEL, message.ts) == ["x"])
    assert running.visible_text.startswith("⏹️ *Cancelled*")
    assert "Cancelled after" in running.visible_text
    slack.wait_for(lambda _: thread_texts(slack, CHANNEL, message.ts)[-1].startswith(f"<@{BOB}> ⏹️"))


def test_status_diff_and_archive_from_the_thread(
    workspace: Workspace, slack: FakeSlack, slack_ctx: JobContext, make_repo: MakeRepo
) -> None:
    message, _ = workspace.mention(f"{make_repo()} write a.txt: one")
    run_jobs(slack_ctx)
    card = slack.messages(CHANNEL, message.ts)[0]
    workspace.reply(message.ts, "status")
    workspace.reply(message.ts, "diff", user=ALICE)
    run_jobs(slack_ctx)
    status, diff = slack.ephemerals(CHANNEL)
    assert (status.user, status.thread_ts, diff.user) == (BOB, message.ts, ALICE)
    assert "Ready for a prompt" in status.visible_text
    assert "Nothing is running or waiting." in status.visible_text
    assert "*1 file changed (+1 −0)*\n• `a.txt` +1 −0" in diff.visible_text
    assert "+one" in diff.visible_text

    workspace.reply(message.ts, "archive")
    run_jobs(slack_ctx)
    assert "📦 Archived" in slack.message(CHANNEL, card.ts).visible_text
    assert "Ship it" not in slack.message(CHANNEL, card.ts).visible_text
    workspace.reply(message.ts, "write b.txt: two")  # the thread is free again: not a prompt
    run_jobs(slack_ctx)
    assert len(slack_ctx.service.prompts.history(only_session(slack_ctx).id)) == 1
