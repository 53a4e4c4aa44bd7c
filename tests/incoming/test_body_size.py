"""A body over the web process's size limit is a plain 413 and one log line on every
inbound route: never the crash path ("github webhook failed (ref N):
HTTPRequestEntityTooLarge") that the signed fuzz once found."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from tests.routes import Answer, Routes, github_seeds, gitlab_seeds, slack_event_seeds

LIMIT = 5 * 1024 * 1024  # handlers/web.py: client_max_size
PAD = "x" * (LIMIT + 1024)


def oversized_json(payload: dict[str, object]) -> str:
    return json.dumps({**payload, "padding": PAD})


def send(routes: Routes, route: str) -> Answer:
    if route == "github":
        seed = github_seeds()["issue_comment.created.issue.json"]["payload"]
        return routes.github(oversized_json(seed), "issue_comment")
    if route == "gitlab":
        return routes.gitlab(oversized_json(gitlab_seeds()[0]))
    if route == "slack events":
        return routes.slack(oversized_json(slack_event_seeds()[0]))
    if route == "slack slash":
        return routes.slack_form({"command": "/repobox", "text": PAD})
    assert route == "slack interactivity"
    return routes.slack(
        urlencode({"payload": json.dumps({"type": "block_actions", "x": PAD})}),
        "application/x-www-form-urlencoded",
    )


@pytest.mark.parametrize(
    "route", ["github", "gitlab", "slack events", "slack slash", "slack interactivity"]
)
def test_an_oversized_body_is_a_plain_413_and_one_log_line(routes: Routes, route: str) -> None:
    answer = send(routes, route)
    assert answer.status == 413, answer.text
    assert "ref " not in answer.text
    lines = routes.log.lines()
    assert len(lines) == 1, lines
    assert "limit" in lines[0] and len(lines[0]) < 300, lines
    assert routes.log.crashes() == [] and routes.log.tracebacks() == []
    assert routes.enqueued() == 0
    assert routes.get("/healthz").status == 200
