"""The fake Slack API speaks well enough for the real slack_sdk clients (sync, async, Socket
Mode), so tests of our Slack surface exercise real client code, not mocks."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web import WebClient
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack import FakeSlack, render, sign

CHANNEL = "C0CHAN"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def test_sync_client_conversation(slack: FakeSlack) -> None:
    client = WebClient(token="xoxb-test", base_url=slack.api_url)

    auth = client.auth_test()
    assert (auth["user_id"], auth["bot_id"], auth["team_id"]) == ("UBOT", "BBOT", "T0001")

    parent = client.chat_postMessage(channel=CHANNEL, text="Starting a session")
    reply = client.chat_postMessage(
        channel=CHANNEL, thread_ts=parent["ts"], text="working", blocks=[section("*Step 1*")]
    )
    assert reply["channel"] == CHANNEL and reply["message"]["thread_ts"] == parent["ts"]
    assert float(reply["ts"]) > float(parent["ts"])

    client.chat_update(channel=CHANNEL, ts=reply["ts"], text="done", blocks=[section("*Done*")])
    client.chat_update(channel=CHANNEL, ts=reply["ts"], text="done!")  # blocks are kept
    message = slack.message(CHANNEL, reply["ts"])
    assert (message.text, message.visible_text) == ("done!", "*Done*")
    edits = slack.edits(CHANNEL, reply["ts"])
    assert [e.text for e in edits] == ["done", "done!"]
    assert edits[0].at <= edits[1].at
    assert [m.ts for m in slack.messages(CHANNEL, thread_ts=parent["ts"])] == [reply["ts"]]
    assert len(slack.messages(CHANNEL)) == 2

    client.reactions_add(channel=CHANNEL, timestamp=parent["ts"], name="eyes")
    client.reactions_add(channel=CHANNEL, timestamp=parent["ts"], name="white_check_mark")
    client.reactions_remove(channel=CHANNEL, timestamp=parent["ts"], name="eyes")
    assert slack.reactions(CHANNEL, parent["ts"]) == ["white_check_mark"]
    with pytest.raises(SlackApiError) as err:
        client.reactions_add(channel=CHANNEL, timestamp=parent["ts"], name="white_check_mark")
    assert err.value.response["error"] == "already_reacted"

    eph = client.chat_postEphemeral(channel=CHANNEL, user="U123", text="only you")
    assert eph["message_ts"]
    assert [e.text for e in slack.ephemerals(user="U123")] == ["only you"]

    link = client.chat_getPermalink(channel=CHANNEL, message_ts=reply["ts"])
    assert f"thread_ts={parent['ts']}" in link["permalink"]

    with pytest.raises(SlackApiError) as err:
        client.chat_update(channel=CHANNEL, ts="1.000000", text="nope")
    assert err.value.response["error"] == "message_not_found"

    client.chat_delete(channel=CHANNEL, ts=reply["ts"])
    assert slack.messages(CHANNEL, thread_ts=parent["ts"]) == []


def test_form_encoded_calls_and_lookups(slack: FakeSlack) -> None:
    """Callers that send form bodies (blocks as a JSON string) are understood too."""
    slack.add_user("U1", real_name="Ada Lovelace", display_name="ada", email="ada@example.org")
    slack.add_channel(CHANNEL, name="dev")
    client = WebClient(token="xoxb-test", base_url=slack.api_url)

    posted = client.api_call(
        "chat.postMessage",
        params={"channel": CHANNEL, "text": "x", "blocks": json.dumps([section("hi")])},
    )
    assert slack.message(CHANNEL, posted["ts"]).blocks == [section("hi")]
    assert (
        "application/x-www-form-urlencoded"
        in slack.calls_to("chat.postMessage")[0].headers["Content-Type"]
    )

    profile = client.users_info(user="U1")["user"]["profile"]
    assert (profile["real_name"], profile["display_name"], profile["email"]) == (
        "Ada Lovelace",
        "ada",
        "ada@example.org",
    )
    assert client.users_info(user="UBOT")["user"]["is_bot"] is True
    assert client.conversations_info(channel=CHANNEL)["channel"]["name"] == "dev"


def test_async_client_conversation(slack: FakeSlack) -> None:
    async def scenario() -> None:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
        assert (await client.auth_test())["user_id"] == "UBOT"
        parent = await client.chat_postMessage(channel=CHANNEL, text="parent")
        reply = await client.chat_postMessage(
            channel=CHANNEL, thread_ts=parent["ts"], text="step", blocks=[context("_running_")]
        )
        await client.chat_update(
            channel=CHANNEL, ts=reply["ts"], text="finished", blocks=[section("finished")]
        )
        await client.reactions_add(channel=CHANNEL, timestamp=parent["ts"], name="rocket")
        await client.chat_postEphemeral(
            channel=CHANNEL, user="U9", thread_ts=parent["ts"], text="psst"
        )
        user = await client.users_info(user="U9")  # sent as GET with a query string
        assert user["user"]["profile"]["display_name"]
        replies = await client.conversations_replies(channel=CHANNEL, ts=parent["ts"])
        assert [m["ts"] for m in replies["messages"]] == [parent["ts"], reply["ts"]]

    asyncio.run(scenario())
    (reply,) = slack.messages(CHANNEL, thread_ts=slack.messages(CHANNEL)[0].ts)
    assert reply.visible_text == "finished"
    assert [e.visible_text for e in slack.edits(CHANNEL, reply.ts)] == ["finished"]
    assert slack.reactions(CHANNEL, slack.messages(CHANNEL)[0].ts) == ["rocket"]
    assert slack.ephemerals(CHANNEL)[0].thread_ts == slack.messages(CHANNEL)[0].ts


def test_retry_after_is_honoured_by_async_retry_handler(slack: FakeSlack) -> None:
    """The one test that sleeps: slack_sdk waits Retry-After (1 s) and tries again."""
    slack.rate_limit("chat.update", times=1, retry_after=1)
    sync = WebClient(token="xoxb-test", base_url=slack.api_url)
    ts = sync.chat_postMessage(channel=CHANNEL, text="a")["ts"]

    async def update() -> float:
        client = AsyncWebClient(
            token="xoxb-test",
            base_url=slack.api_url,
            retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
        )
        started = time.monotonic()
        await client.chat_update(channel=CHANNEL, ts=ts, text="b")
        return time.monotonic() - started

    assert asyncio.run(update()) >= 1.0
    assert len(slack.throttled("chat.update")) == 1
    assert len(slack.calls_to("chat.update")) == 2
    assert slack.message(CHANNEL, ts).text == "b"


def test_edit_rate_rule_answers_429(slack: FakeSlack) -> None:
    slack.enforce_edit_rate(1.0)
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    ts = client.chat_postMessage(channel=CHANNEL, text="0")["ts"]
    client.chat_update(channel=CHANNEL, ts=ts, text="1")
    with pytest.raises(SlackApiError) as err:
        client.chat_update(channel=CHANNEL, ts=ts, text="2")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "1"
    other = client.chat_postMessage(channel=CHANNEL, text="other")["ts"]
    client.chat_update(channel=CHANNEL, ts=other, text="fine")  # the rule is per message
    assert [e.text for e in slack.edits(CHANNEL, ts)] == ["1"]
    assert len(slack.throttled()) == 1


def test_auth_is_checked(slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as err:
        WebClient(base_url=slack.api_url).chat_postMessage(channel=CHANNEL, text="x")
    assert err.value.response["error"] == "not_authed"
    with pytest.raises(SlackApiError) as err:
        WebClient(token="bogus", base_url=slack.api_url).auth_test()
    assert err.value.response["error"] == "invalid_auth"
    assert slack.messages() == []


def test_block_limits_and_rendering(slack: FakeSlack) -> None:
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    too_many = [section("x")] * 51
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel=CHANNEL, text="x", blocks=too_many)
    assert err.value.response["error"] == "invalid_blocks"
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel=CHANNEL, text="x", blocks=[section("y" * 3001)])
    assert err.value.response["error"] == "invalid_blocks"

    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Session"}},
        section("*running*"),
        {"type": "divider"},
        context("3 files changed"),
        {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [
            {"type": "text", "text": "see "},
            {"type": "link", "url": "https://x", "text": "log"},
        ]}]},
    ]  # fmt: skip
    assert render(blocks, "fallback") == "Session\n*running*\n3 files changed\nsee log"
    assert render(None, "plain") == "plain"
    assert slack.take_violations(), "the fake records each refusal as a violation"


def test_buttons_are_held_to_slacks_limits(slack: FakeSlack) -> None:
    client = WebClient(token="xoxb-test", base_url=slack.api_url)

    def actions(*labels: str, ids: list[str] | None = None) -> dict[str, Any]:
        names = ids or [f"pick_{n}" for n in range(len(labels))]
        elements = [
            {"type": "button", "text": {"type": "plain_text", "text": label}, "action_id": name}
            for label, name in zip(labels, names, strict=True)
        ]
        return {"type": "actions", "block_id": "picks", "elements": elements}

    refused = [
        [actions(*["Pick"] * 26)],  # 25 elements at most
        [actions("x" * 76)],  # a label of 75 characters at most
        [actions("Pick 1", "Pick 2", ids=["pick", "pick"])],  # action ids unique in a block
        [actions("Pick 1"), actions("Pick 2")],  # block ids unique in a message
    ]
    for blocks in refused:
        with pytest.raises(SlackApiError) as err:
            client.chat_postMessage(channel=CHANNEL, text="x", blocks=blocks)
        assert err.value.response["error"] == "invalid_blocks"
    posted = client.chat_postMessage(channel=CHANNEL, text="x", blocks=[actions(*["P"] * 25)])
    assert posted["ok"]
    assert slack.take_violations(), "the fake records each refusal as a violation"


def test_extra_methods_and_unknown_methods(slack: FakeSlack) -> None:
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    slack.stub("bots.info", {"bot": {"id": "BBOT", "name": "repobox"}})
    assert client.bots_info(bot="BBOT")["bot"]["name"] == "repobox"
    slack.add_method("team.info", lambda params, call: {"team": {"id": slack.team_id}})
    assert client.team_info()["team"]["id"] == "T0001"
    with pytest.raises(SlackApiError):
        client.api_call("no.such.method")
    assert [c.path for c in slack.unhandled] == ["/api/no.such.method"]
    assert [v.path for v in slack.take_violations()] == ["/api/no.such.method"]


def test_sign_matches_slacks_verifier() -> None:
    body = '{"type":"event_callback"}'
    headers = sign("s3cret", body)
    assert SignatureVerifier("s3cret").is_valid_request(body, headers)
    stale = sign("s3cret", body, timestamp=time.time() - 600)
    assert not SignatureVerifier("s3cret").is_valid_request(body, stale)


def test_socket_mode_envelope_and_ack(slack: FakeSlack) -> None:
    async def scenario() -> None:
        web = AsyncWebClient(base_url=slack.api_url)
        client = SocketModeClient(app_token="xapp-1-test", web_client=web)
        got: list[SocketModeRequest] = []

        async def on_request(c: SocketModeClient, req: SocketModeRequest) -> None:
            got.append(req)
            await c.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))

        client.socket_mode_request_listeners.append(on_request)  # type: ignore[arg-type]
        await client.connect()
        try:
            await asyncio.to_thread(slack.wait_for, lambda _: slack.socket_count)
            envelope_id = await asyncio.to_thread(
                slack.socket_send, "events_api", {"event": {"type": "app_mention"}}
            )
            await asyncio.to_thread(slack.wait_for, lambda _: slack.socket_ack(envelope_id))
            assert got[0].payload["event"]["type"] == "app_mention"
        finally:
            await client.close()

    asyncio.run(scenario())
    assert slack.calls_to("apps.connections.open")[0].status == 200
