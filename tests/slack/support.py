"""Slack test support: the real aiohttp app on a real port, a fake Slack Web API, and a
workspace that sends requests built from Slack's own payloads, signed as Slack signs them.

The fixtures that put them together are in this folder's conftest.py.
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode

from bot.core.config import Settings
from bot.core.redisio import connect
from bot.sessions.session import Session
from bot.surfaces.slack.thread import SURFACE, SlackThread
from jobs.steps.context import JobContext
from tests.fakes.slack import FakeMessage, FakeSlack, sign
from tests.live_server import LiveServer

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "slack"
SECRET = "test-signing-secret-0123456789"
TOKEN = "xoxb-test-bot-token"
TEAM = "T111"
CHANNEL = "C111"
ALICE = "W111"
BOB = "W222"
INTERVAL = 0.1  # edits per message at most every 0.1 s in tests (1 s in production)


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text()


def fixture_json(name: str) -> dict[str, Any]:
    return cast("dict[str, Any]", json.loads(fixture_text(name)))


@dataclass
class Response:
    status: int
    text: str
    seconds: float

    def json(self) -> Any:
        return json.loads(self.text)


class AppServer(LiveServer):
    """`handlers.web.build_app` on 127.0.0.1:<free port> (see `LiveServer`), for Slack requests."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, connect(settings.redis_url or ""))

    def request(
        self, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Response:
        method = "POST" if body is not None else "GET"
        url = self.url + path  # always http://127.0.0.1
        req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)  # noqa: S310
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(req, timeout=30) as answer:  # noqa: S310 - local
                return Response(answer.status, answer.read().decode(), _since(started))
        except urllib.error.HTTPError as error:
            return Response(error.code, error.read().decode(), _since(started))


def _since(started: float) -> float:
    return time.perf_counter() - started


class Workspace:
    """People in a Slack workspace, as Slack delivers what they do to our app."""

    def __init__(self, fake: FakeSlack, app: AppServer, secret: str = SECRET) -> None:
        self.fake = fake
        self.app = app
        self.secret = secret
        self._ids = itertools.count(1)

    # -- raw requests -------------------------------------------------------------------
    def post(
        self,
        body: str,
        content_type: str,
        *,
        signed: bool = True,
        secret: str | None = None,
        timestamp: float | None = None,
        retry: int | None = None,
    ) -> Response:
        headers = {"Content-Type": content_type}
        if signed:
            headers.update(sign(secret or self.secret, body, timestamp))
        if retry is not None:
            headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "timeout"})
        return self.app.request("/slack/events", body.encode(), headers)

    def post_json(self, payload: dict[str, Any], **options: Any) -> Response:
        return self.post(json.dumps(payload), "application/json", **options)

    # -- what people do -----------------------------------------------------------------
    def slash(
        self, text: str, *, user: str = ALICE, channel: str = CHANNEL, **options: Any
    ) -> Response:
        fields = dict(parse_qsl(fixture_text("slash_command.bolt-python.txt").strip()))
        fields.update(
            command="/repobox",
            text=text,
            user_id=user,
            user_name=f"user-{user.lower()}",
            channel_id=channel,
            team_id=TEAM,
            trigger_id=f"{next(self._ids)}.111.trigger",
        )
        return self.post(urlencode(fields), "application/x-www-form-urlencoded", **options)

    def event(
        self, event: dict[str, Any], *, event_id: str | None = None, **options: Any
    ) -> Response:
        envelope = fixture_json("event_callback.app_mention.json")
        envelope.update(
            team_id=TEAM,
            event=event,
            event_id=event_id or f"Ev{next(self._ids):06d}",
            event_time=int(time.time()),
        )
        return self.post_json(envelope, **options)

    def mention(
        self,
        text: str,
        *,
        user: str = BOB,
        channel: str = CHANNEL,
        thread_ts: str | None = None,
        **options: Any,
    ) -> tuple[FakeMessage, Response]:
        """`@repobox <text>` typed by `user` (the message also exists in the fake)."""
        full = f"<@{self.fake.bot_user_id}> {text}"
        message = self.fake.add_message(channel, full, user=user, thread_ts=thread_ts)
        event = fixture_json("event_callback.app_mention.json")["event"]
        event.update(text=full, user=user, ts=message.ts, event_ts=message.ts, channel=channel)
        event["team"] = TEAM
        if thread_ts:
            event["thread_ts"] = thread_ts
        return message, self.event(event, **options)

    def reply(
        self, thread_ts: str, text: str, *, user: str = BOB, channel: str = CHANNEL, **options: Any
    ) -> tuple[FakeMessage, Response]:
        """A plain reply in a thread, no mention."""
        message = self.fake.add_message(channel, text, user=user, thread_ts=thread_ts)
        event = fixture_json("event_callback.message.thread_reply.json")["event"]
        event.update(
            text=text,
            user=user,
            ts=message.ts,
            event_ts=message.ts,
            thread_ts=thread_ts,
            channel=channel,
            team=TEAM,
        )
        return message, self.event(event, **options)

    def click(
        self,
        action_id: str,
        session_id: str,
        *,
        message_ts: str,
        user: str = ALICE,
        channel: str = CHANNEL,
    ) -> Response:
        payload = fixture_json("block_actions.json")
        payload["user"].update(id=user, team_id=TEAM)
        payload["team"]["id"] = TEAM
        payload["channel"]["id"] = channel
        payload["container"].update(message_ts=message_ts, channel_id=channel, is_ephemeral=False)
        payload["trigger_id"] = f"{next(self._ids)}.222.trigger"
        payload["actions"][0].update(
            action_id=action_id,
            block_id="session",
            value=session_id,
            action_ts=f"{time.time():.6f}",
        )
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded")


# -- reading what people see --------------------------------------------------------------
def session_of(ctx: JobContext, channel: str, ts: str) -> Session:
    session = ctx.service.sessions.find_by_thread(SURFACE, SlackThread(TEAM, channel, ts).key)
    assert session is not None, f"no session in thread {ts}"
    return session


def only_session(ctx: JobContext) -> Session:
    sessions = ctx.service.sessions.recent(include_archived=True)
    assert len(sessions) == 1, [s.id for s in sessions]
    return sessions[0]


def thread_texts(fake: FakeSlack, channel: str, thread_ts: str) -> list[str]:
    return [m.visible_text for m in fake.messages(channel, thread_ts)]
