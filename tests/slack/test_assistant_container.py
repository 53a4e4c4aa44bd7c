"""The assistant container glue in a small Bolt app: signed events in, what Slack is asked
to show (suggested prompts, the thread's title) out, and the message handed on."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from redis import Redis
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.redisio import async_client
from bot.sessions.async_session import AsyncSessionStore
from bot.sessions.session import Person, Session, Thread
from bot.sessions.session_store import SessionStore
from handlers.slack.assistant import (
    AssistantMessage,
    build_assistant,
    recent_repositories,
    suggested_prompts,
    thread_title,
)
from tests.fakes.slack import FakeSlack, sign

SECRET = "assistant-signing-secret"
TEAM, DM, ALICE, BOB = "T0001", "D0ALICE", "U0ALICE", "U0BOB"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(team_id=TEAM) as fake:
        yield fake


def session(store: SessionStore, repo: str, who: str, n: int) -> None:
    store.create(
        Session(
            id=Session.new_id(),
            repo=repo,
            provider="local",
            project=repo,
            base_branch="main",
            work_branch=f"repobox/{n}",
            thread=Thread("slack", f"{TEAM}:C1:{n}.0"),
            created_by=Person(who, who.lower()),
            updated_at=time.time() + n,
        )
    )


def envelope(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "token": "legacy",
        "team_id": TEAM,
        "api_app_id": "AFAKE",
        "type": "event_callback",
        "event_id": f"Ev{time.monotonic_ns()}",
        "event_time": int(time.time()),
        "event": event,
        "authorizations": [
            {"team_id": TEAM, "user_id": "UBOT", "is_bot": True, "is_enterprise_install": False}
        ],
    }


class Container:
    """A small Bolt app with only the assistant middleware, fed signed requests."""

    def __init__(self, slack: FakeSlack, redis: Redis) -> None:
        self.submitted: list[AssistantMessage] = []

        async def submit(message: AssistantMessage) -> None:
            self.submitted.append(message)

        self.app = AsyncApp(
            client=AsyncWebClient(token="xoxb-test", base_url=slack.api_url),
            signing_secret=SECRET,
            process_before_response=True,
        )

        async def recent(user_id: str) -> list[str]:  # each `send` runs a loop of its own
            aredis = async_client(redis, shared=None)
            try:
                return await recent_repositories(AsyncSessionStore(aredis), user_id)
            finally:
                await aredis.aclose()

        self.app.use(build_assistant(recent=recent, submit=submit))

    def send(self, event: dict[str, Any], secret: str = SECRET) -> BoltResponse:
        raw = json.dumps(envelope(event))
        headers = {"Content-Type": "application/json", **sign(secret, raw)}
        request = AsyncBoltRequest(body=raw, headers={k: [v] for k, v in headers.items()})
        return asyncio.run(self.app.async_dispatch(request))


def started(thread_ts: str, user: str = ALICE) -> dict[str, Any]:
    return {
        "type": "assistant_thread_started",
        "assistant_thread": {
            "user_id": user,
            "context": {"channel_id": "C0CHAN", "team_id": TEAM, "enterprise_id": None},
            "channel_id": DM,
            "thread_ts": thread_ts,
        },
        "event_ts": f"{time.time():.6f}",
    }


def said(text: str, thread_ts: str) -> dict[str, Any]:
    ts = f"{time.time():.6f}"
    return {
        "type": "message",
        "user": ALICE,
        "text": text,
        "ts": ts,
        "thread_ts": thread_ts,
        "channel": DM,
        "channel_type": "im",
        "event_ts": ts,
    }


def test_a_new_thread_suggests_recent_repositories_and_help(slack: FakeSlack, redis: Redis) -> None:
    store = SessionStore(redis)
    for n, (repo, who) in enumerate(
        [("acme/web", ALICE), ("acme/api", ALICE), ("bob/secret", BOB), ("acme/api", ALICE)]
    ):
        session(store, repo, who, n)
    thread = slack.add_message(DM, "Hi! What should we work on?", user="UBOT").ts
    container = Container(slack, redis)

    assert container.send(started(thread)).status == 200

    (shown,) = slack.streams.suggested_prompts
    assert (shown["channel"], shown["thread_ts"], shown["title"]) == (DM, thread, "Start a session")
    assert [p["message"] for p in shown["prompts"]] == ["new acme/api ", "new acme/web ", "help"]
    assert container.submitted == []


def test_someone_new_gets_a_template(slack: FakeSlack, redis: Redis) -> None:
    thread = slack.add_message(DM, "Hi!", user="UBOT").ts
    Container(slack, redis).send(started(thread, user="U0NEW"))
    (shown,) = slack.streams.suggested_prompts
    assert [p["message"] for p in shown["prompts"]] == [
        "new <group/project> <what to change>",
        "help",
    ]


def test_a_message_titles_the_thread_and_is_handed_on(slack: FakeSlack, redis: Redis) -> None:
    thread = slack.add_message(DM, "Hi!", user="UBOT").ts
    container = Container(slack, redis)

    assert (
        container.send(said("new acme/api @develop fix the flaky date test", thread)).status == 200
    )
    assert container.send(said("ship it", thread)).status == 200

    assert [t["title"] for t in slack.streams.titles] == ["acme/api: fix the flaky date test"]
    assert slack.streams.titles[0]["thread_ts"] == thread
    first, second = container.submitted
    assert (first.team_id, first.channel, first.thread_ts, first.user_id) == (
        TEAM,
        DM,
        thread,
        ALICE,
    )
    assert first.text == "new acme/api @develop fix the flaky date test"
    assert second.text == "ship it"


def test_a_badly_signed_event_does_nothing(slack: FakeSlack, redis: Redis) -> None:
    thread = slack.add_message(DM, "Hi!", user="UBOT").ts
    container = Container(slack, redis)
    assert container.send(said("new acme/api x", thread), secret="wrong").status == 401
    assert container.submitted == [] and slack.streams.titles == []


def test_prompts_and_titles_keep_to_slack_limits() -> None:
    many = suggested_prompts([f"acme/r{i}" for i in range(9)])
    assert len(many) == 4 and many[-1]["message"] == "help"
    assert thread_title("fix it") is None and thread_title("new acme/api") == "acme/api"
    long = thread_title("new acme/api " + "word " * 40)
    assert long is not None and len(long) == 80 and long.endswith("…")
