"""Signed but malformed requests, as found by fuzzing the live routes: each is a 4xx with
one short log line, and nothing is enqueued. Every body is correctly signed."""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.fakes.github import sign
from tests.fakes.slack import sign as slack_sign
from tests.routes import (
    GITHUB_SECRET,
    SLACK_SECRET,
    Answer,
    Routes,
    github_seeds,
    gitlab_seeds,
    slack_command_seed,
    slack_event_seeds,
    slack_interaction_seed,
)

DEEP = "[" * 1000 + "]" * 1000


def refused(routes: Routes, answer: Answer) -> None:
    """What a malformed request must come to: a 4xx, one log line, no job, no traceback."""
    assert 400 <= answer.status < 500, (answer.status, answer.text)
    assert routes.enqueued() == 0
    lines = routes.log.lines()
    assert len(lines) == 1, lines
    assert len(lines[0]) < 500 and "\n" not in lines[0]
    assert routes.log.tracebacks() == [] and routes.log.crashes() == []


def issue_comment() -> dict[str, Any]:
    return copy.deepcopy(github_seeds()["issue_comment.created.issue.json"]["payload"])


def note() -> dict[str, Any]:
    return copy.deepcopy(gitlab_seeds()[0])


def mention() -> dict[str, Any]:
    return copy.deepcopy(slack_event_seeds()[0])


def test_the_seeds_themselves_are_taken(routes: Routes) -> None:
    """The bodies below differ from these only by what the test breaks."""
    assert routes.github(json.dumps(issue_comment()), "issue_comment").status == 202
    assert routes.gitlab(json.dumps(note())).status == 202
    assert routes.slack(json.dumps(mention())).status == 200
    assert routes.slack_form(slack_command_seed()).status == 200
    assert routes.enqueued() == 3  # two comment jobs and the Slack answer "which repository?"
    assert routes.log.tracebacks() == []


@pytest.mark.parametrize("where", ["github", "gitlab", "slack-events", "slack-interaction"])
def test_a_body_nested_a_thousand_levels_deep(routes: Routes, where: str) -> None:
    if where == "github":
        answer = routes.github('{"action": "created", "comment": ' + DEEP + "}", "issue_comment")
    elif where == "gitlab":
        answer = routes.gitlab('{"object_kind": "note", "object_attributes": ' + DEEP + "}")
    elif where == "slack-events":
        answer = routes.slack('{"type": "event_callback", "event": ' + DEEP + "}")
    else:
        answer = routes.slack_interaction('{"type": "block_actions", "actions": ' + DEEP + "}")
    refused(routes, answer)


@pytest.mark.parametrize("number", ["Infinity", "-Infinity", "NaN", "1e999"])
def test_infinity_in_a_number_field(routes: Routes, number: str) -> None:
    body = json.dumps(issue_comment()).replace('"number": 1,', f'"number": {number},')
    assert number in body
    refused(routes, routes.github(body, "issue_comment"))


def test_infinity_in_a_comment_id_and_in_a_gitlab_iid(routes: Routes) -> None:
    payload = issue_comment()
    payload["comment"]["id"] = float("inf")
    refused(routes, routes.github(json.dumps(payload), "issue_comment"))
    routes.log.clear()
    payload = note()
    payload["issue"]["iid"] = float("inf")
    refused(routes, routes.gitlab(json.dumps(payload)))


def test_issue_false_in_a_github_comment(routes: Routes) -> None:
    payload = issue_comment()
    payload["issue"] = False
    refused(routes, routes.github(json.dumps(payload), "issue_comment"))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (("user",), "root"),
        (("user", "username"), 7),
        (("object_attributes", "id"), "1244"),
        (("object_attributes", "note"), ["@repobox hi"]),
        (("project",), []),
        (("project", "path_with_namespace"), None),
        (("issue", "iid"), True),
    ],
)
def test_gitlab_fields_of_the_wrong_type(
    routes: Routes, field: tuple[str, ...], value: Any
) -> None:
    payload = note()
    parent = payload
    for key in field[:-1]:
        parent = parent[key]
    parent[field[-1]] = value
    refused(routes, routes.gitlab(json.dumps(payload)))


def test_a_null_repository_full_name(routes: Routes) -> None:
    payload = issue_comment()
    payload["repository"]["full_name"] = None
    refused(routes, routes.github(json.dumps(payload), "issue_comment"))


@pytest.mark.parametrize(
    "change",
    [
        {"type": []},
        {"event": []},
        {"event": 0},
        {"event_id": "\ud800"},
    ],
)
def test_slack_envelopes_that_are_not_what_slack_sends(
    routes: Routes, change: dict[str, Any]
) -> None:
    envelope = mention()
    envelope.update(change)
    refused(routes, routes.slack(json.dumps(envelope)))


@pytest.mark.parametrize("change", [{"subtype": []}, {"thread_ts": "\udc00"}, {"user": ["W1"]}])
def test_slack_events_with_fields_of_the_wrong_type(routes: Routes, change: dict[str, Any]) -> None:
    envelope = mention()
    envelope["event"].update(change)
    refused(routes, routes.slack(json.dumps(envelope)))


def test_a_command_field_that_is_a_list(routes: Routes) -> None:
    refused(routes, routes.slack(json.dumps({"command": [{}], "team_id": "T111"})))


@pytest.mark.parametrize("channel", ["", "C1:2"])
def test_a_slash_command_with_a_bad_channel_id(routes: Routes, channel: str) -> None:
    fields = dict(slack_command_seed())
    fields["channel_id"] = channel
    refused(routes, routes.slack_form(fields))


def test_a_12000_character_command_field(routes: Routes) -> None:
    fields = dict(slack_command_seed())
    fields["command"] = "x" * 12_000
    refused(routes, routes.slack_form(fields))


@pytest.mark.parametrize(
    "change",
    [
        {"actions": []},
        {"actions": [{"block_id": "b", "value": "v"}]},
        {"user": "W111"},
        {"user": ["W111"]},
        {"channel": "C111"},
        {"channel": ["C111"]},
        {"team": "T111"},
        {"team": []},
    ],
)
def test_block_actions_that_are_not_what_slack_sends(
    routes: Routes, change: dict[str, Any]
) -> None:
    payload = slack_interaction_seed()
    payload.update(change)
    refused(routes, routes.slack_interaction(json.dumps(payload)))


def test_a_form_field_that_is_not_utf8(routes: Routes) -> None:
    fields = dict(slack_command_seed())
    fields.pop("text")
    body = urlencode(fields) + "&text=%ED%A0%80"  # a lone surrogate, encoded as UTF-8 bytes
    refused(routes, routes.slack(body, "application/x-www-form-urlencoded"))


def test_a_delivery_id_of_another_shape(routes: Routes) -> None:
    raw = json.dumps(issue_comment()).encode()
    headers = sign(GITHUB_SECRET, raw, "issue_comment", delivery="../../x y")
    refused(routes, routes.post("/webhooks/github", raw, headers))


def test_secret_headers_that_are_not_utf8_are_refused_not_crashed_on(routes: Routes) -> None:
    raw = json.dumps(note()).encode()
    headers = {"Content-Type": "application/json", "X-Gitlab-Event": "Note Hook"}
    answer = routes.post("/webhooks/gitlab", raw, {**headers, "X-Gitlab-Token": "s\xe9cret"})
    assert answer.status == 401 and routes.log.crashes() == []
    routes.log.clear()
    body = json.dumps(issue_comment()).encode()
    signed = sign(GITHUB_SECRET, body, "issue_comment")
    signed["X-Hub-Signature-256"] = "sha256=\xe9"
    answer = routes.post("/webhooks/github", body, signed)
    assert answer.status == 401 and routes.log.crashes() == []
    routes.log.clear()
    raw = json.dumps(mention()).encode()
    for bad in ({"X-Slack-Signature": "v0=\xe9"}, {"X-Slack-Request-Timestamp": "\xe9"}):
        headers = {"Content-Type": "application/json", **slack_sign(SLACK_SECRET, raw), **bad}
        assert routes.post("/slack/events", raw, headers).status == 401
    assert routes.log.crashes() == [] and routes.log.tracebacks() == []
