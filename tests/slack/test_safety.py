"""What the Slack surface refuses, ignores or answers privately: bad signatures, retries,
bots and edits, mistakes, bodies Slack never sends, people and channels not allowed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.commands.grammar import HELP_TEXT
from jobs.steps.context import JobContext
from jobs.worker import runtime
from tests.conftest import MakeRepo, run_jobs
from tests.fakes.slack import FakeSlack
from tests.slack.support import (
    BOB,
    CHANNEL,
    AppServer,
    Workspace,
    fixture_json,
    fixture_text,
    only_session,
    session_of,
)


def nothing_happened(slack: FakeSlack, ctx: JobContext) -> None:
    run_jobs(ctx)
    assert ctx.service.sessions.recent(include_archived=True) == []
    assert [c.path for c in slack.calls if c.path != "/api/auth.test"] == []


def test_unsigned_wrongly_signed_and_stale_requests_are_refused(
    workspace: Workspace, slack: FakeSlack, slack_ctx: JobContext, make_repo: MakeRepo
) -> None:
    origin = make_repo()
    assert workspace.slash(f"new {origin} x", signed=False).status == 401
    assert workspace.slash(f"new {origin} x", secret="not-the-secret").status == 401
    assert workspace.slash(f"new {origin} x", timestamp=time.time() - 600).status == 401
    _, answer = workspace.mention(f"{origin} x", timestamp=time.time() - 301)
    assert answer.status == 401
    nothing_happened(slack, slack_ctx)


def test_a_retried_event_is_handled_once(
    workspace: Workspace, slack: FakeSlack, slack_ctx: JobContext, make_repo: MakeRepo
) -> None:
    origin = make_repo()
    message, first = workspace.mention(f"{origin} write a.txt: x", event_id="Ev0001")
    event = fixture_json("event_callback.app_mention.json")["event"]
    event.update(text=message.text, user=BOB, ts=message.ts, channel=CHANNEL, team="T111")
    again = workspace.event(event, event_id="Ev0001", retry=1)
    # The same message as a `message` event and as a redelivery with a new envelope id:
    # acted on once all the same.
    other = workspace.event({**event, "type": "message"}, event_id="Ev0002", retry=2)
    assert [first.status, again.status, other.status] == [200, 200, 200]
    run_jobs(slack_ctx)

    session = only_session(slack_ctx)
    assert [p.text for p in slack_ctx.service.prompts.history(session.id)] == ["write a.txt: x"]
    assert len(slack.messages(CHANNEL, message.ts)) == 3  # card, progress, mention

    reply, _ = workspace.reply(message.ts, "append a.txt: y", event_id="Ev0003")
    # and Slack's redelivery of that reply:
    event = fixture_json("event_callback.message.thread_reply.json")["event"]
    event.update(text=reply.text, user=BOB, ts=reply.ts, thread_ts=message.ts, channel=CHANNEL)
    assert workspace.event(event, event_id="Ev0003", retry=1).status == 200
    run_jobs(slack_ctx)
    texts = [p.text for p in slack_ctx.service.prompts.history(session.id)]
    assert texts == ["write a.txt: x", "append a.txt: y"]


def test_own_messages_other_bots_and_edits_are_ignored(
    workspace: Workspace, slack: FakeSlack, slack_ctx: JobContext, make_repo: MakeRepo
) -> None:
    message, _ = workspace.mention(f"{make_repo()} write a.txt: x")
    run_jobs(slack_ctx)
    session = session_of(slack_ctx, CHANNEL, message.ts)
    calls_before = len(slack.calls)
    base = fixture_json("event_callback.message.thread_reply.json")["event"]
    base.update(thread_ts=message.ts, channel=CHANNEL, team="T111")

    own = {
        **base,
        "user": slack.bot_user_id,
        "bot_id": slack.bot_id,
        "text": "✅ Done",
        "ts": "1.1",
    }
    other_bot = {**base, "subtype": "bot_message", "bot_id": "B999", "text": "hi", "ts": "1.2"}
    other_bot.pop("user")
    edited = {
        **base,
        "subtype": "message_changed",
        "ts": "1.3",
        "message": {"type": "message", "user": BOB, "text": "write b.txt: y", "ts": message.ts},
    }
    deleted = {**base, "subtype": "message_deleted", "ts": "1.4", "deleted_ts": message.ts}
    for event in (own, other_bot, edited, deleted):
        assert workspace.event(event).status == 200
    run_jobs(slack_ctx)

    assert len(slack_ctx.service.prompts.history(session.id)) == 1
    assert slack.calls[calls_before:] == []
    assert slack.ephemerals() == []


def test_mistakes_are_answered_privately_to_whoever_made_them(
    workspace: Workspace, slack: FakeSlack, slack_ctx: JobContext, tmp_path: Path
) -> None:
    answer = workspace.slash("frobnicate the widgets").json()
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("I don't know the command `frobnicate`.")

    answer = workspace.slash("new nosuch/repo fix it").json()
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("I don't know where `nosuch/repo` lives")

    answer = workspace.slash(f"new {tmp_path}/missing.git fix it").json()
    assert answer["text"] == f"`{tmp_path}/missing.git` does not exist."

    answer = workspace.slash("help").json()
    assert answer["response_type"] == "ephemeral"
    assert answer["blocks"][0]["text"]["text"] == HELP_TEXT

    message, _ = workspace.mention("nosuch/repo fix it", user=BOB)
    _, _ = workspace.reply(message.ts, "ship it")  # not a session's thread: not for us
    run_jobs(slack_ctx)
    (seen,) = slack.ephemerals(CHANNEL, user=BOB)
    assert seen.visible_text.startswith("I don't know where `nosuch/repo` lives")
    assert slack_ctx.service.sessions.recent(include_archived=True) == []
    assert [m.user for m in slack.messages(CHANNEL)] == [BOB, BOB]  # nothing else posted


def test_bodies_slack_never_sends_get_400_and_events_of_no_interest_200(
    workspace: Workspace, slack: FakeSlack, slack_ctx: JobContext
) -> None:
    assert workspace.post("{not json", "application/json").status == 400
    assert workspace.post("[1, 2]", "application/json").status == 400
    assert workspace.post('{"hello": "world"}', "application/json").status == 400
    assert workspace.post("payload=%7Bnope", "application/x-www-form-urlencoded").status == 400

    challenge = workspace.post(fixture_text("url_verification.json"), "application/json")
    assert challenge.status == 200
    assert challenge.json()["challenge"] == fixture_json("url_verification.json")["challenge"]
    reaction = {"type": "reaction_added", "user": BOB, "reaction": "eyes", "item": {}}
    assert workspace.event(reaction).status == 200
    link_click = workspace.click("repobox_log", "nope", message_ts="1.0")
    assert link_click.status == 200
    nothing_happened(slack, slack_ctx)


@pytest.fixture
def strict_workspace(
    slack: FakeSlack, slack_ctx: JobContext
) -> Iterator[tuple[Workspace, JobContext]]:
    settings = slack_ctx.settings.with_changes(
        allowed_slack_channels=frozenset({"COK"}), allowed_slack_users=frozenset({BOB})
    )
    ctx = runtime.install(settings, slack_ctx.redis)
    server = AppServer(settings).start()
    try:
        yield Workspace(slack, server), ctx
    finally:
        server.stop()


def test_only_allowed_channels_and_people(
    strict_workspace: tuple[Workspace, JobContext], slack: FakeSlack, make_repo: MakeRepo
) -> None:
    workspace, ctx = strict_workspace
    origin = make_repo()
    answer = workspace.slash(f"new {origin} x", user=BOB, channel=CHANNEL).json()
    assert answer == {"response_type": "ephemeral", "text": answer["text"]}
    assert "not enabled in this channel" in answer["text"]
    answer = workspace.slash(f"new {origin} x", user="W999", channel="COK").json()
    assert "not on the list" in answer["text"]

    workspace.mention(f"{origin} x", user=BOB, channel=CHANNEL)
    workspace.reply("1.0", "ship it", user=BOB, channel=CHANNEL)  # refused without a word
    run_jobs(ctx)
    assert ctx.service.sessions.recent(include_archived=True) == []
    (refusal,) = slack.ephemerals()
    assert (refusal.user, refusal.channel) == (BOB, CHANNEL)
    assert "not enabled in this channel" in refusal.visible_text

    message, _ = workspace.mention(f"{origin} write a.txt: x", user=BOB, channel="COK")
    run_jobs(ctx)
    assert session_of(ctx, "COK", message.ts).created_by.id == BOB


def test_whoami_answers_privately_with_the_co_author_line(workspace: Workspace) -> None:
    answer = workspace.slash("whoami").json()
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("You are <@")
    assert "Co-authored-by: " in answer["text"] and "@users.noreply.repobox" in answer["text"]
