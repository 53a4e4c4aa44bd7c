"""Every inbound route of the real app at once, and signed requests to each of them.

The real aiohttp app (Slack, GitLab and GitHub configured, Bolt pointed at a fake Slack
for its `auth.test`) on a real port, with a client that signs each request the way the
platform does, and a log of what the app wrote. Used by the boundary's regression tests,
its fuzz tests and `bench/fuzz_routes.py`.
"""

from __future__ import annotations

import copy
import http.client
import json
import logging
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from redis import Redis

from bot.core.config import Settings
from tests.fakes.github import sign as github_sign
from tests.fakes.slack import FakeSlack
from tests.fakes.slack import sign as slack_sign
from tests.live_server import LiveServer

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SLACK_SECRET = "routes-slack-signing-secret"
SLACK_TOKEN = "xoxb-routes-bot-token"
GITLAB_SECRET = "routes-gitlab-secret"
GITHUB_SECRET = "routes-github-secret"
FORM = "application/x-www-form-urlencoded"
# What only the last line of defence logs: seeing one means a body got past the boundary.
CRASH_MARKERS = ("failed inside Bolt", "slack request failed", "webhook failed")


def fixture(path: str) -> Any:
    text = (FIXTURES / path).read_text()
    return json.loads(text) if path.endswith(".json") else text


def route_settings(data_dir: Path, redis_url: str, slack: FakeSlack) -> Settings:
    return Settings(
        data_dir=data_dir,
        redis_url=redis_url,
        agent="command",
        agent_command=f"{sys.executable} -c pass",
        sandbox="off",
        pool_size=1,
        host="routes-host",
        port=0,
        public_url="http://repobox.test",
        secret_key="dGVzdC1rZXktMzItYnl0ZXMtbG9uZy4uLi4uLi4uLi4=",
        slack_bot_token=SLACK_TOKEN,
        slack_signing_secret=SLACK_SECRET,
        slack_api_url=slack.api_url,
        gitlab_webhook_secret=GITLAB_SECRET,
        github_webhook_secret=GITHUB_SECRET,
    )


@dataclass
class Answer:
    status: int
    text: str
    seconds: float
    headers: dict[str, str] = field(default_factory=dict)  # names in lower case


class LogBook(logging.Handler):
    """Every record at WARNING and above, from any logger, while attached."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self) -> list[str]:
        return [r.getMessage() for r in self.records]

    def tracebacks(self) -> list[str]:
        return [
            r.getMessage()
            for r in self.records
            if r.exc_info or r.exc_text or "Traceback" in r.getMessage()
        ]

    def crashes(self) -> list[str]:
        return [line for line in self.lines() if any(m in line for m in CRASH_MARKERS)]

    def clear(self) -> None:
        self.records.clear()


class Routes:
    """Signed requests to /webhooks/github, /webhooks/gitlab and /slack/events."""

    def __init__(self, settings: Settings, redis: Redis) -> None:
        self.redis = redis
        self.server = LiveServer(settings, redis)
        self.log = LogBook()
        self._conn: http.client.HTTPConnection | None = None

    def start(self) -> Routes:
        self.server.start()
        logging.getLogger().addHandler(self.log)
        return self

    def stop(self) -> None:
        logging.getLogger().removeHandler(self.log)
        if self._conn is not None:
            self._conn.close()
        self.server.stop()

    # -- raw ---------------------------------------------------------------------------------
    def post(self, path: str, body: bytes, headers: dict[str, str]) -> Answer:
        """One POST on a kept-alive connection (reopened if the server closed it)."""
        for attempt in range(2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
            started = time.perf_counter()
            try:
                self._conn.request("POST", path, body=body, headers=headers)
                response = self._conn.getresponse()
                text = response.read().decode("utf-8", "replace")
                took = time.perf_counter() - started
                headers = {k.lower(): v for k, v in response.getheaders()}
                return Answer(response.status, text, took, headers)
            except (ConnectionError, http.client.HTTPException):
                self._conn.close()
                self._conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def get(self, path: str) -> Answer:
        started = time.perf_counter()
        status, text, _ = self.server.get(path)
        return Answer(status, text, time.perf_counter() - started)

    # -- per route ---------------------------------------------------------------------------
    def github(self, body: bytes | str, event: str, *, form: bool = False) -> Answer:
        raw = body.encode() if isinstance(body, str) else body
        if form:
            raw = urlencode({"payload": raw.decode("utf-8", "surrogatepass")}).encode()
        headers = github_sign(GITHUB_SECRET, raw, event, delivery=str(uuid.uuid4()))
        if form:
            headers["Content-Type"] = FORM
        return self.post("/webhooks/github", raw, headers)

    def gitlab(self, body: bytes | str, event: str = "Note Hook") -> Answer:
        raw = body.encode() if isinstance(body, str) else body
        headers = {
            "Content-Type": "application/json",
            "X-Gitlab-Event": event,
            "X-Gitlab-Token": GITLAB_SECRET,
            "Idempotency-Key": str(uuid.uuid4()),
        }
        return self.post("/webhooks/gitlab", raw, headers)

    def slack(self, body: bytes | str, content_type: str = "application/json") -> Answer:
        raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
        headers = {"Content-Type": content_type, **slack_sign(SLACK_SECRET, raw)}
        return self.post("/slack/events", raw, headers)

    def slack_form(self, fields: dict[str, str] | list[tuple[str, str]]) -> Answer:
        return self.slack(urlencode(fields), FORM)

    def slack_interaction(self, payload: str) -> Answer:
        return self.slack(urlencode({"payload": payload}), FORM)

    # -- what the app did ----------------------------------------------------------------------
    def enqueued(self) -> int:
        return sum(int(self.redis.llen(key)) for key in self.redis.keys("rq:queue:*"))


# -- seeds: the fixtures, made into requests Repobox acts on ----------------------------------
def github_seeds() -> dict[str, dict[str, Any]]:
    """One delivery per event Repobox takes, each mentioning the bot."""
    seeds: dict[str, dict[str, Any]] = {}
    for name, event in (
        ("issue_comment.created.issue.json", "issue_comment"),
        ("issue_comment.created.pull_request.json", "issue_comment"),
        ("pull_request_review_comment.created.json", "pull_request_review_comment"),
    ):
        payload = fixture(f"github/{name}")
        payload["comment"]["body"] = "@repobox write notes.txt: hello"
        seeds[name] = {"event": event, "payload": payload}
    review = fixture("github/pull_request_review.submitted.json")
    around = fixture("github/pull_request_review_comment.created.json")
    review.update(
        pull_request=around["pull_request"],
        repository=around["repository"],
        sender=around["sender"],
    )
    review["review"]["body"] = "@repobox please tidy this up"
    seeds["pull_request_review.submitted.json"] = {
        "event": "pull_request_review",
        "payload": review,
    }
    return seeds


def gitlab_seeds() -> list[dict[str, Any]]:
    seeds = []
    for name in ("note_hook.issue.json", "note_hook.merge_request.json"):
        payload = fixture(f"gitlab/{name}")
        payload["object_attributes"]["note"] = "@repobox write notes.txt: hello"
        seeds.append(payload)
    return seeds


def slack_event_seeds() -> list[dict[str, Any]]:
    seeds = []
    for name in (
        "event_callback.app_mention.json",
        "event_callback.app_mention.with-blocks.json",
        "event_callback.message.channel.json",
        "event_callback.message.thread_reply.json",
    ):
        seeds.append(fixture(f"slack/{name}"))
    return seeds


def slack_command_seed() -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    fields = dict(parse_qsl(fixture("slack/slash_command.bolt-python.txt").strip()))
    fields.update(command="/repobox", text="help")
    return list(fields.items())


def slack_interaction_seed() -> dict[str, Any]:
    payload = copy.deepcopy(fixture("slack/block_actions.json"))
    payload["actions"][0]["action_id"] = "repobox_ship"
    return payload
