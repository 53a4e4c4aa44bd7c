"""Socket Mode (SLACK_APP_TOKEN): the web process connects out to Slack, so no public URL
is needed; the same listeners answer, and every envelope is acknowledged."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl

import pytest

from bot.core.config import Settings
from jobs.steps.context import JobContext
from jobs.worker import runtime
from tests.conftest import MakeRepo, run_jobs
from tests.fakes.slack import FakeSlack
from tests.slack.support import (
    BOB,
    CHANNEL,
    TEAM,
    AppServer,
    fixture_json,
    fixture_text,
    session_of,
)

APP_TOKEN = "xapp-1-A111-test"


@pytest.fixture
def socket_app(
    slack: FakeSlack, slack_settings: Settings, slack_ctx: JobContext
) -> Iterator[tuple[AppServer, JobContext]]:
    settings = slack_settings.with_changes(slack_app_token=APP_TOKEN, slack_signing_secret=None)
    ctx = runtime.install(settings, slack_ctx.redis)
    server = AppServer(settings).start()
    try:
        yield server, ctx
    finally:
        server.stop()


def test_socket_mode_mention_and_slash_command(
    socket_app: tuple[AppServer, JobContext], slack: FakeSlack, make_repo: MakeRepo
) -> None:
    server, ctx = socket_app
    slack.wait_for(lambda _: slack.socket_count == 1)
    assert server.request("/slack/events", b"{}").status == 404  # no HTTP route needed

    text = f"<@{slack.bot_user_id}> {make_repo()} write a.txt: x"
    message = slack.add_message(CHANNEL, text, user=BOB)
    envelope = fixture_json("event_callback.app_mention.json")
    envelope["event"].update(text=text, user=BOB, ts=message.ts, channel=CHANNEL, team=TEAM)
    envelope["team_id"] = TEAM
    mention = slack.socket_send("events_api", envelope)
    slack.wait_for(lambda _: slack.socket_ack(mention))
    again = slack.socket_send("events_api", envelope, retry_attempt=1)  # Slack's retry
    slack.wait_for(lambda _: slack.socket_ack(again))
    run_jobs(ctx)
    session = session_of(ctx, CHANNEL, message.ts)
    assert [p.text for p in ctx.service.prompts.history(session.id)] == ["write a.txt: x"]
    assert slack.messages(CHANNEL, message.ts)[1].visible_text.startswith("✅ *Done* in")

    command = dict(parse_qsl(fixture_text("slash_command.bolt-python.txt").strip()))
    command.update(command="/repobox", text="help", team_id=TEAM, channel_id=CHANNEL)
    slash = slack.socket_send("slash_commands", command)
    ack = slack.wait_for(lambda _: slack.socket_ack(slash))
    assert ack["payload"]["response_type"] == "ephemeral"
    assert "`ship it`" in ack["payload"]["blocks"][0]["text"]["text"]
