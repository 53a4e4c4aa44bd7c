"""The last line of defence: when something breaks past the boundary (here Redis is
gone), every route answers 503 with Retry-After (so the platform delivers again and
nothing is lost), or a polite reply to a slash command, with one log line carrying a
reference, and never a 500 or a traceback."""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from tests.fakes.slack import FakeSlack
from tests.routes import (
    SLACK_TOKEN,
    Routes,
    github_seeds,
    gitlab_seeds,
    route_settings,
    slack_command_seed,
    slack_event_seeds,
)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def broken(tmp_path: Path) -> Iterator[Routes]:
    slack = FakeSlack(token=SLACK_TOKEN)
    slack.start()
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    redis = Redis.from_url(url, socket_connect_timeout=0.2, socket_timeout=0.2)
    routes = Routes(route_settings(tmp_path, url, slack), redis).start()
    try:
        yield routes
    finally:
        routes.stop()
        slack.stop()


def one_reference_line(routes: Routes) -> str:
    lines = routes.log.lines()
    assert len(lines) == 1, lines
    assert routes.log.tracebacks() == []
    assert "ref " in lines[0] and "ConnectionError" in lines[0] and len(lines[0]) < 500
    routes.log.clear()
    return lines[0]


def test_every_route_answers_503_to_retry_later_when_redis_is_gone(broken: Routes) -> None:
    """A deliberate change from 400: an outage is not the sender's fault, so Slack and the
    forges are asked to deliver again (Retry-After) rather than drop the event."""
    github = github_seeds()["issue_comment.created.issue.json"]
    answer = broken.github(json.dumps(github["payload"]), github["event"])
    assert answer.status == 503 and "ref " in answer.text
    assert answer.headers.get("retry-after") == "10"
    one_reference_line(broken)

    answer = broken.gitlab(json.dumps(copy.deepcopy(gitlab_seeds()[0])))
    assert answer.status == 503 and answer.headers.get("retry-after") == "10"
    one_reference_line(broken)

    answer = broken.slack(json.dumps(slack_event_seeds()[0]))
    assert answer.status == 503 and answer.headers.get("retry-after") == "10"
    one_reference_line(broken)

    fields = dict(slack_command_seed())
    fields["text"] = "status"  # lists the channel's sessions: reads Redis
    answer = broken.slack_form(fields)
    assert answer.status == 200
    assert "went wrong on our side (ref " in answer.text
    one_reference_line(broken)
