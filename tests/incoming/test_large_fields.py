"""A megabyte of letters and digits in a field people control is answered like any other
request: refused or taken, with a short log line. (How long it takes is measured in
bench/fuzz_routes.py; before redaction was linear, 40,000 letters took 8 seconds.)"""

from __future__ import annotations

import copy
import json

from tests.routes import Routes, github_seeds, gitlab_seeds, slack_command_seed, slack_event_seeds

MEGABYTE = ("abcdefghij0123456789" * 52_429)[:1_048_576]


def short_lines(routes: Routes) -> list[str]:
    lines = routes.log.lines()
    assert all(len(line) < 500 for line in lines), [len(line) for line in lines]
    assert routes.log.tracebacks() == []
    return lines


def test_a_megabyte_github_login_is_refused_in_one_short_line(routes: Routes) -> None:
    payload = copy.deepcopy(github_seeds()["issue_comment.created.issue.json"]["payload"])
    payload["comment"]["user"]["login"] = MEGABYTE
    answer = routes.github(json.dumps(payload), "issue_comment")
    assert answer.status == 400 and routes.enqueued() == 0
    assert len(short_lines(routes)) == 1
    assert routes.get("/healthz").status == 200


def test_a_megabyte_gitlab_note_is_taken(routes: Routes) -> None:
    payload = copy.deepcopy(gitlab_seeds()[0])
    payload["object_attributes"]["note"] = "@repobox " + MEGABYTE[: 1_000_000 - 9]
    answer = routes.gitlab(json.dumps(payload))
    assert answer.status == 202 and routes.enqueued() == 1
    assert short_lines(routes) == []


def test_megabyte_slack_texts_are_refused_and_the_longest_message_is_taken(routes: Routes) -> None:
    fields = dict(slack_command_seed())
    fields["text"] = MEGABYTE
    assert routes.slack_form(fields).status == 400
    envelope = copy.deepcopy(slack_event_seeds()[0])
    envelope["event"]["text"] = "<@W111> " + MEGABYTE
    assert routes.slack(json.dumps(envelope)).status == 400
    assert len(short_lines(routes)) == 2 and routes.enqueued() == 0

    envelope["event"]["text"] = "<@W111> " + MEGABYTE[:39_000]  # Slack's limit is 40,000
    assert routes.slack(json.dumps(envelope)).status == 200
    assert routes.enqueued() == 1  # the private answer: "Which repository should I work on?"


def test_megabyte_notes_shaped_against_the_mention_finder_are_read_correctly(
    routes: Routes,
) -> None:
    """Shapes that made the hidden-element and code-span patterns rescan the text from
    every start (21 KB of `<a ` took 2.5 s): each is read in one pass, mention found."""
    shapes = [
        "<a " * 300_000,
        "<a hidden>" * 95_000,
        "x" + "".join("`" * n + "a" for n in range(1_300, 0, -1)),  # no fence: starts with x
    ]
    for i, shape in enumerate(shapes):
        payload = copy.deepcopy(gitlab_seeds()[0])
        payload["object_attributes"]["id"] = 90_000 + i
        payload["object_attributes"]["note"] = shape[:990_000] + "\n@repobox hi"
        assert routes.gitlab(json.dumps(payload)).status == 202
    assert routes.enqueued() == 3 and short_lines(routes) == []
