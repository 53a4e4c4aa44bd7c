"""Slack's native streaming end to end: signed requests through the real Bolt app, runs in
real RQ workers, the real slack_sdk client against the fake Slack's streaming methods.
Assertions are on what people see: the streamed reply, its task cards, the summary."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from bot.core.config import Settings
from handlers.slack.assistant import thread_title
from jobs.steps.context import JobContext
from tests.conftest import MakeRepo, WorkerProcess, git, run_jobs
from tests.fakes.slack import FakeSlack, render
from tests.fakes.slack_streams import FakeStream
from tests.slack.support import (
    BOB,
    CHANNEL,
    INTERVAL,
    SECRET,
    TEAM,
    TOKEN,
    Workspace,
    thread_texts,
)

STREAM_METHODS = ("chat.startStream", "chat.appendStream", "chat.stopStream")


@pytest.fixture
def slack_settings(settings: Settings, slack: FakeSlack) -> Settings:
    """The Slack settings of every Slack test, with streaming on (its default)."""
    return settings.with_changes(
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=slack.api_url,
        slack_edit_interval=INTERVAL,
        slack_stream_interval=0.2,
    )


def claude_line(*content: dict[str, object]) -> str:
    """A Claude Code stream-json line the scripted agent echoes (a step or the agent's words)."""
    return json.dumps({"type": "assistant", "message": {"content": list(content)}})


def tool(name: str, **args: object) -> str:
    return claude_line({"type": "tool_use", "id": f"t-{name}", "name": name, "input": args})


def said(text: str) -> str:
    return claude_line({"type": "text", "text": text})


def only_stream(slack: FakeSlack, thread_ts: str) -> FakeStream:
    (stream,) = slack.streams.streams(CHANNEL, thread_ts)
    return stream


def stream_calls(slack: FakeSlack) -> dict[str, int]:
    return {m: len(slack.calls_to(m)) for m in STREAM_METHODS}


def test_a_run_streams_words_and_one_card_per_step(
    workspace: Workspace, slack: FakeSlack, slack_ctx: JobContext, make_repo: MakeRepo
) -> None:
    prompt = "\n".join(
        [
            said("Looking at the readme first."),
            tool("Read", file_path="README.md"),
            tool("Bash", command="make test"),
            "write notes.txt: hello",
        ]
    )
    message, _ = workspace.mention(f"{make_repo()} {prompt}")
    run_jobs(slack_ctx)

    stream = only_stream(slack, message.ts)
    assert (stream.recipient_user_id, stream.recipient_team_id) == (BOB, TEAM)
    assert not stream.open and "Looking at the readme first." in stream.text
    titles = [task.title for task in stream.tasks.values()]
    assert len(titles) == 3 and titles[1:] == ["read README.md", "ran `make test`"]
    assert set(stream.task_states().values()) == {"complete"}
    summary = render(stream.blocks)
    for seen in ("✅ *Done* in", "notes.txt` +1 −0", "Ship it", "Undo", "View log"):
        assert seen in summary, summary
    replies = slack.messages(CHANNEL, message.ts)
    assert replies[-1].text.startswith(f"<@{BOB}> ✅ Done:")  # the author is notified
    assert not slack.edits(CHANNEL, stream.ts)  # streamed, never edited
    # no 👀: the stream and the thread's status show the run going (a Tier 3 call saved)
    assert slack.reactions(CHANNEL, message.ts) == ["white_check_mark"]
    working = [s["status"] for s in slack.streams.statuses]
    assert working[0] == "is working…" and working[-1] == ""  # set while it ran, then cleared
    assert not slack.unhandled


def test_a_failing_step_ends_as_an_error_card(
    workspace: Workspace, slack: FakeSlack, slack_ctx: JobContext, make_repo: MakeRepo
) -> None:
    message, _ = workspace.mention(f"{make_repo()} {tool('Bash', command='make')}\nfail 3")
    run_jobs(slack_ctx)

    stream = only_stream(slack, message.ts)
    assert list(stream.task_states().values())[-1] == "error"
    assert "❌ *Failed*" in render(stream.blocks)
    assert "Ship it" not in render(stream.blocks)
    assert slack.reactions(CHANNEL, message.ts) == ["x"]


def result_line(tool_use_id: str, text: str, *, error: bool) -> str:
    """A Claude Code stream-json line: a tool's result, failed or not."""
    block = {"type": "tool_result", "tool_use_id": tool_use_id, "content": text, "is_error": error}
    return json.dumps({"type": "user", "message": {"content": [block]}})


def test_a_command_that_failed_ends_as_an_error_card_in_a_run_that_went_on(
    workspace: Workspace, slack: FakeSlack, slack_ctx: JobContext, make_repo: MakeRepo
) -> None:
    prompt = "\n".join(
        [
            tool("Bash", command="exit 3"),
            result_line("t-Bash", "Exit code 3", error=True),
            tool("Read", file_path="README.md"),
            result_line("t-Read", "# Demo", error=False),
            "write notes.txt: hello",
        ]
    )
    message, _ = workspace.mention(f"{make_repo()} {prompt}")
    run_jobs(slack_ctx)

    stream = only_stream(slack, message.ts)
    states = {task.title: task.statuses[-1] for task in stream.tasks.values()}
    assert states["ran `exit 3`"] == "error"  # Slack's status for a task that failed
    assert states["read README.md"] == "complete"
    assert "✅ *Done* in" in render(stream.blocks)  # the run itself went on and finished
    shown = slack.message(CHANNEL, stream.ts).visible_text
    assert "[error] ran `exit 3`" in shown


def test_a_failed_check_ends_as_an_error_card(
    workspace: Workspace, slack: FakeSlack, slack_ctx: JobContext, make_repo: MakeRepo
) -> None:
    checks = "checks:\n  - name: tests\n    run: exit 3\n    required: false\n"
    origin = make_repo(files={".repobox.yml": checks})
    message, _ = workspace.mention(f"{origin} write notes.txt: hello")
    run_jobs(slack_ctx)

    stream = only_stream(slack, message.ts)
    cards = [(task.title, task.statuses[-1]) for task in stream.tasks.values()]
    verdict = next(title for title, _ in cards if title.startswith("❌ tests failed (exit 3"))
    assert dict(cards)[verdict] == "error"
    assert dict(cards)["⏳ check `tests` running"] == "error"  # the card it opened, too
    assert [status for _, status in cards].count("error") == 2


def test_a_429_storm_still_lands_the_final_state(
    workspace: Workspace, slack: FakeSlack, slack_ctx: JobContext, make_repo: MakeRepo
) -> None:
    slack.rate_limit("chat.appendStream", times=4, retry_after=1)
    slack.rate_limit("chat.stopStream", times=3, retry_after=1)
    message, _ = workspace.mention(f"{make_repo()} {tool('Read', file_path='a')}\nprint 50")
    run_jobs(slack_ctx)

    stream = only_stream(slack, message.ts)
    assert len(slack.throttled("chat.stopStream")) == 3
    assert not stream.open and "✅ *Done* in" in render(stream.blocks)
    assert set(stream.task_states().values()) == {"complete"}


def test_a_refusal_falls_back_to_edits_and_is_remembered(
    workspace: Workspace, slack: FakeSlack, slack_ctx: JobContext, make_repo: MakeRepo
) -> None:
    slack.streams.refuse(CHANNEL, "channel_type_not_supported")
    message, _ = workspace.mention(f"{make_repo()} write a.txt: one")
    run_jobs(slack_ctx)
    workspace.reply(message.ts, "write b.txt: two")
    run_jobs(slack_ctx)

    assert len(slack.calls_to("chat.startStream")) == 1  # the second run did not ask again
    assert not slack.streams.streams()
    texts = thread_texts(slack, CHANNEL, message.ts)
    assert sum(t.startswith("✅ *Done* in") for t in texts) == 2  # today's edited replies
    assert not any("stream" in t.lower() for t in texts)  # nothing said about it


def test_a_thousand_line_run_stays_within_the_tiers(
    workspace: Workspace, slack: FakeSlack, slack_ctx: JobContext, make_repo: MakeRepo
) -> None:
    message, _ = workspace.mention(f"{make_repo()} print 1000\nsleep 1")
    run_jobs(slack_ctx)

    stream = only_stream(slack, message.ts)
    calls = stream_calls(slack)
    assert calls["chat.startStream"] == calls["chat.stopStream"] == 1
    assert calls["chat.appendStream"] <= 15  # one per interval at most, never one per line
    assert not slack.throttled()
    assert "✅ *Done* in" in render(stream.blocks)


def test_cancel_stops_the_stream_with_a_cancelled_summary(
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
        REPOBOX_SLACK_STREAM_INTERVAL="0.2",
        REPOBOX_PUBLIC_URL=settings.public_url,
        REPOBOX_SECRET_KEY=settings.secret_key or "",
    )
    message, _ = workspace.mention(f"{make_repo()} {tool('Bash', command='sleep')}\nsleep 30")
    slack.wait_for(lambda s: s.streams.streams(CHANNEL, message.ts), timeout=20)
    card = slack.messages(CHANNEL, message.ts)[0]
    session = slack_ctx.service.sessions.recent()[0]
    assert workspace.click("repobox_cancel", session.id, message_ts=card.ts).status == 200

    stream = slack.wait_for(
        lambda s: next((x for x in s.streams.streams(CHANNEL, message.ts) if not x.open), None),
        timeout=20,
    )
    assert "⏹️ *Cancelled*" in render(stream.blocks)
    assert list(stream.task_states().values())[-1] == "error"
    assert any(t.details == "cancelled" for t in stream.tasks.values())
    slack.wait_for(lambda _: thread_texts(slack, CHANNEL, message.ts)[-1].startswith(f"<@{BOB}> ⏹️"))


def test_the_assistant_container_from_a_suggested_prompt_to_a_shipped_branch(
    workspace: Workspace, slack: FakeSlack, slack_ctx: JobContext, make_repo: MakeRepo
) -> None:
    origin = make_repo()
    dm = "D0BOB"
    thread = slack.add_message(dm, "Hi! What should we work on?", user=slack.bot_user_id).ts
    opened = {
        "type": "assistant_thread_started",
        "assistant_thread": {
            "user_id": BOB,
            "context": {"channel_id": CHANNEL, "team_id": TEAM},
            "channel_id": dm,
            "thread_ts": thread,
        },
        "event_ts": thread,
    }
    assert workspace.event(opened).status == 200
    (offered,) = slack.streams.suggested_prompts
    assert offered["prompts"][0]["message"] == "new <group/project> <what to change>"

    def say(text: str) -> None:
        message = slack.add_message(dm, text, user=BOB, thread_ts=thread)
        event = {
            "type": "message",
            "user": BOB,
            "text": text,
            "ts": message.ts,
            "thread_ts": thread,
            "channel": dm,
            "channel_type": "im",
            "event_ts": message.ts,
        }
        assert workspace.event(event).status == 200
        run_jobs(slack_ctx)

    say(f"new {origin} write a.txt: one")
    (titled,) = slack.streams.titles  # repository and first prompt, cut to Slack's length
    assert titled["title"] == thread_title(f"new {origin} write a.txt: one")
    card = slack.messages(dm, thread)[1]  # the session card: the first reply of the thread
    assert "Repobox session" in card.visible_text
    stream = only_stream_in(slack, dm, thread)
    assert "a.txt` +1 −0" in render(stream.blocks)

    say("ship it")
    session = slack_ctx.service.sessions.recent()[0]
    assert git("show", f"{session.work_branch}:a.txt", cwd=origin) == "one\n"
    assert thread_texts(slack, dm, thread)[-1].startswith(f"<@{BOB}> 🚢 Pushed")
    assert "🚢 Pushed" in slack.message(dm, card.ts).visible_text


def only_stream_in(slack: FakeSlack, channel: str, thread_ts: str) -> FakeStream:
    (stream,) = slack.streams.streams(channel, thread_ts)
    return stream
