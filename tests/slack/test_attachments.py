"""Files shared with a Slack prompt reach the model: a screenshot as an image block, a
text file as text; a file over a cap, or one not on Slack's own file host, is named in
the thread and never fetched."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from bot.core.config import Settings
from bot.sessions.events import ProgressStream
from jobs.steps.context import JobContext
from jobs.worker import runtime
from tests.agent_support import fake
from tests.attachment_support import PNG, elsewhere
from tests.compare_surfaces import with_models
from tests.conftest import MakeRepo, run_jobs
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.slack import FakeSlack
from tests.slack.support import (
    BOB,
    CHANNEL,
    TEAM,
    Workspace,
    fixture_json,
    session_of,
    thread_texts,
)

__all__ = ["elsewhere", "fake"]  # fixtures


@pytest.fixture
def slack_settings(slack_settings: Settings, fake: FakeAnthropic) -> Settings:
    return with_models(slack_settings, fake).with_changes(agent="anthropic")


def mention_with_files(workspace: Workspace, slack: FakeSlack, text: str, files: list[Any]) -> str:
    full = f"<@{slack.bot_user_id}> {text}"
    message = slack.add_message(CHANNEL, full, user=BOB)
    event = fixture_json("event_callback.app_mention.json")["event"]
    event.update(
        text=full, user=BOB, ts=message.ts, event_ts=message.ts, channel=CHANNEL, team=TEAM
    )
    event["files"] = files
    assert workspace.event(event).status == 200
    return message.ts


def test_a_screenshot_reaches_the_model_and_a_30_mb_file_is_refused_by_name(
    workspace: Workspace,
    slack: FakeSlack,
    slack_ctx: JobContext,
    fake: FakeAnthropic,
    make_repo: MakeRepo,
    elsewhere: list[str],
) -> None:
    shot = slack.files.add("screenshot.png", PNG, "image/png")
    notes = slack.files.add("notes.txt", b"The button is blue.\n", "text/plain")
    huge = slack.files.add("huge.mov", b"not really", "video/quicktime", size=30 * 1024 * 1024)
    outside = dict(slack.files.add("tracker.png", PNG, "image/png"))
    outside["url_private"] = f"{elsewhere[0]}/tracker.png"  # not Slack's file host
    fake.script(Reply.text("The screenshot shows a blue button."))

    ts = mention_with_files(
        workspace, slack, f"{make_repo()} what is in the screenshot?", [shot, notes, huge, outside]
    )
    run_jobs(slack_ctx)

    content = fake.requests()[0]["messages"][0]["content"]
    assert content[0] == {"type": "text", "text": "what is in the screenshot?"}
    images = [block for block in content if block["type"] == "image"]
    assert images == [
        {
            "type": "image",
            "source": {
                "type": "base64",
                "media_type": "image/png",
                "data": base64.b64encode(PNG).decode(),
            },
        }
    ]
    assert any("The button is blue." in b.get("text", "") for b in content[1:])
    said = "\n".join(thread_texts(slack, CHANNEL, ts))
    assert "huge.mov (30.0 MB): over 5.0 MB per file" in said
    assert "tracker.png: not a file hosted by the surface itself" in said
    assert len(slack.files.fetched) == 2  # the screenshot and the notes, nothing else
    assert elsewhere[1:] == []  # the other host was never asked


def test_a_command_agent_is_told_where_the_files_are_and_can_read_them(
    workspace: Workspace,
    slack: FakeSlack,
    slack_ctx: JobContext,
    make_repo: MakeRepo,
) -> None:
    shot = slack.files.add("my screenshot.png", PNG, "image/png")
    script = "cat; echo; wc -c < .git/repobox/attachments/1-my_screenshot.png"
    command = f"sh -c '{script}' agent"
    ctx = runtime.install(
        slack_ctx.settings.with_changes(agent="command", agent_command=command, sandbox="auto"),
        slack_ctx.redis,
    )
    ts = mention_with_files(workspace, slack, f"{make_repo()} look at this", [shot])
    run_jobs(ctx)
    session = session_of(ctx, CHANNEL, ts)
    output = [e.text for e in ProgressStream(ctx.redis, session.id).read(count=1000)]
    note = "- my screenshot.png (image/png): .git/repobox/attachments/1-my_screenshot.png"
    assert note in output
    assert str(len(PNG)) in output  # read from the scratch folder (in the sandbox, where it works)
    assert "look at this" in output


def test_each_compare_candidate_gets_the_screenshot(
    workspace: Workspace,
    slack: FakeSlack,
    slack_ctx: JobContext,
    fake: FakeAnthropic,
    make_repo: MakeRepo,
) -> None:
    fake.script(Reply.text("Session ready."))
    ts = mention_with_files(workspace, slack, f"{make_repo()} hello", [])
    run_jobs(slack_ctx)
    shot = slack.files.add("screenshot.png", PNG, "image/png")
    for model in ("claude-sonnet-5-5", "claude-opus-5-5"):
        fake.script_for(model, Reply.text(f"{model} sees a blue button."))
    full = f"<@{slack.bot_user_id}> compare sonnet,opus what is in the screenshot?"
    message = slack.add_message(CHANNEL, full, user=BOB, thread_ts=ts)
    event = fixture_json("event_callback.app_mention.json")["event"]
    event.update(
        text=full, user=BOB, ts=message.ts, event_ts=message.ts, channel=CHANNEL, team=TEAM
    )
    event.update(thread_ts=ts, files=[shot])
    assert workspace.event(event).status == 200
    run_jobs(slack_ctx)

    image = base64.b64encode(PNG).decode()
    by_model = {r["model"]: r["messages"][0]["content"] for r in fake.requests()[1:]}
    assert set(by_model) == {"claude-sonnet-5-5", "claude-opus-5-5"}
    for content in by_model.values():
        assert content[0] == {"type": "text", "text": "what is in the screenshot?"}
        assert [b["source"]["data"] for b in content if b["type"] == "image"] == [image]
    assert len(slack.files.fetched) == 1  # fetched once, copied to each candidate
