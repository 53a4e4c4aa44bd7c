"""Fixtures for the Slack surface's tests: the fake Slack, Slack settings, the app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis import Redis

from bot.core.config import Settings
from jobs.steps.context import JobContext
from jobs.worker import runtime
from tests.fakes.slack import FakeSlack
from tests.slack.support import INTERVAL, SECRET, TOKEN, AppServer, Workspace


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack(token=TOKEN)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def slack_settings(settings: Settings, slack: FakeSlack) -> Settings:
    return settings.with_changes(
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=slack.api_url,
        slack_edit_interval=INTERVAL,
        slack_streaming=False,  # the edit path; tests/slack/test_streaming.py turns it on
    )


@pytest.fixture
def slack_ctx(slack_settings: Settings, redis: Redis) -> JobContext:
    return runtime.install(slack_settings, redis)


@pytest.fixture
def app_server(slack_settings: Settings, slack_ctx: JobContext) -> Iterator[AppServer]:
    server = AppServer(slack_settings).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def workspace(slack: FakeSlack, app_server: AppServer) -> Workspace:
    return Workspace(slack, app_server)
