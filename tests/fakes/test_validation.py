"""The fakes refuse what the real platforms refuse (issue 27's drift list), and record it.

Requests are sent raw (urllib), so no client library's own checks hide what the fake does.
Each test takes the violations it causes on purpose; any other would fail it at teardown.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.fakes.descriptions import DescriptionUnavailable
from tests.fakes.github import FakeGitHub
from tests.fakes.github_openapi import github_description
from tests.fakes.gitlab import DEFAULT_TOKEN, FakeGitLab
from tests.fakes.slack import FakeSlack

REPO = "acme/widgets"
CHANNEL = "C0CHAN"


def send(
    url: str,
    method: str = "GET",
    body: Any = None,
    headers: dict[str, str] | None = None,
    form: bool = False,
) -> tuple[int, Any]:
    """(status, decoded JSON) of one request, 4xx included."""
    data = None
    all_headers = dict(headers or {})
    if body is not None and form:
        data = "&".join(f"{k}={v}" for k, v in body.items()).encode()
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        all_headers["Content-Type"] = "application/json; charset=utf-8"
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310
            return reply.status, json.loads(reply.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


# -- GitHub -----------------------------------------------------------------------------------


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    try:
        github_description()
    except DescriptionUnavailable as exc:
        pytest.skip(str(exc))
    with FakeGitHub() as fake:
        fake.add_repo(REPO, "https://example.invalid/widgets.git")
        yield fake


def gh(fake: FakeGitHub, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    auth = {"Authorization": "token ghp_test", "Accept": "application/vnd.github+json"}
    return send(fake.url + path, method, body, auth)


def test_github_refuses_states_other_than_open_and_closed(github: FakeGitHub) -> None:
    issue = github.add_issue(REPO, "Bug").number
    pull = github.add_pull(REPO, "feature").number
    for path in (f"/repos/{REPO}/issues/{issue}", f"/repos/{REPO}/pulls/{pull}"):
        status, body = gh(github, "PATCH", path, {"state": "merged"})
        assert status == 422, body
        assert body["message"] == "Validation Failed"
        assert body["documentation_url"].startswith("https://docs.github.com/")
        assert "'merged' is not one of ['open', 'closed']" in body["errors"][0]["message"]
    status, body = gh(github, "GET", f"/repos/{REPO}/pulls?state=merged")
    assert status == 422, body
    assert len(github.take_violations()) == 3
    assert gh(github, "PATCH", f"/repos/{REPO}/issues/{issue}", {"state": "closed"})[0] == 200


def test_github_refuses_a_draft_that_is_not_a_boolean(github: FakeGitHub) -> None:
    new = {"title": "Improve", "head": "feature", "base": "main", "draft": "yes"}
    status, body = gh(github, "POST", f"/repos/{REPO}/pulls", new)
    assert status == 422, body
    assert body["message"] == "Validation Failed"
    assert "'yes' is not of type 'boolean'" in body["errors"][0]["message"]
    assert [v.problem for v in github.take_violations()] == [body["errors"][0]["message"]]


def test_github_ignores_a_head_filter_without_owner_as_github_does(github: FakeGitHub) -> None:
    mine = github.add_pull(REPO, "repobox/fix").number
    other = github.add_pull(REPO, "someone-else").number
    status, listed = gh(github, "GET", f"/repos/{REPO}/pulls?head=repobox/fix")
    assert status == 200
    assert {p["number"] for p in listed} == {mine, other}  # every open PR: the wrong one too
    [violation] = github.take_violations()
    assert "without 'owner:'" in violation.problem
    status, listed = gh(github, "GET", f"/repos/{REPO}/pulls?head=acme:repobox/fix")
    assert [p["number"] for p in listed] == [mine]


def test_github_answers_404_for_a_route_the_description_lacks(github: FakeGitHub) -> None:
    status, body = gh(github, "GET", f"/repos/{REPO}/merge_requests")
    assert (status, body["message"]) == (404, "Not Found")
    [violation] = github.take_violations()
    assert "is not in GitHub's REST API" in violation.problem
    status, _ = gh(github, "GET", f"/repos/{REPO}/issues/not-a-number")
    assert status == 404
    assert "is not an integer" in github.take_violations()[0].problem


def test_github_records_an_unknown_query_parameter(github: FakeGitHub) -> None:
    status, _ = gh(github, "GET", f"/repos/{REPO}/pulls?status=open")
    assert status == 200  # GitHub ignores it; the test that sent it fails
    assert "'status' is not in" in github.take_violations()[0].problem


# -- Slack ------------------------------------------------------------------------------------


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token="xoxb-test") as fake:
        yield fake


BEARER = {"Authorization": "Bearer xoxb-test"}


def test_slack_reads_a_json_calls_token_only_from_the_header(slack: FakeSlack) -> None:
    post = {"token": "xoxb-test", "channel": CHANNEL, "text": "hi"}
    status, body = send(slack.api_url + "chat.postMessage", "POST", post)
    assert (status, body["ok"], body["error"]) == (200, False, "not_authed")
    assert "Authorization header" in slack.take_violations()[0].problem
    assert not slack.messages(CHANNEL)
    ts = slack.add_message(CHANNEL, "hello").ts
    react = {"token": "xoxb-test", "channel": CHANNEL, "name": "eyes", "timestamp": ts}
    status, body = send(slack.api_url + "reactions.add", "POST", react, form=True)
    assert body["ok"], body  # a form body may carry the token


def test_slack_refuses_json_to_a_form_only_method(slack: FakeSlack) -> None:
    posted = slack.add_message(CHANNEL, "hello")
    react = {"channel": CHANNEL, "name": "eyes", "timestamp": posted.ts}
    status, body = send(slack.api_url + "reactions.add", "POST", react, BEARER)
    assert (status, body["error"]) == (200, "invalid_arguments")
    assert "not a JSON body" in body["response_metadata"]["messages"][0]
    assert slack.take_violations()
    assert not slack.reactions(CHANNEL, posted.ts)
    status, body = send(slack.api_url + "reactions.add", "POST", react, BEARER, form=True)
    assert body["ok"], body


def test_slack_refuses_a_numeric_ts(slack: FakeSlack) -> None:
    posted = send(
        slack.api_url + "chat.postMessage", "POST", {"channel": CHANNEL, "text": "a"}, BEARER
    )
    ts = posted[1]["ts"]
    edit = {"channel": CHANNEL, "ts": float(ts), "text": "b"}
    status, body = send(slack.api_url + "chat.update", "POST", edit, BEARER)
    assert (status, body["error"]) == (200, "invalid_arguments")
    assert "ts must be a string" in slack.take_violations()[0].problem
    assert slack.message(CHANNEL, ts).text == "a"


def test_slack_refuses_a_missing_required_argument(slack: FakeSlack) -> None:
    status, body = send(
        slack.api_url + "chat.update", "POST", {"channel": CHANNEL, "text": "b"}, BEARER
    )
    assert (status, body["error"]) == (200, "invalid_arguments")
    assert body["response_metadata"]["messages"] == ["[ERROR] missing required field: ts"]
    assert slack.take_violations()


@pytest.mark.parametrize(
    "block",
    [
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "a",
                    "text": {"type": "plain_text", "text": "b" * 76},
                }
            ],
        },
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11},
        {"type": "no_such_block"},
    ],
    ids=["button-76", "header-151", "context-11", "unknown-type"],
)
def test_slack_refuses_blocks_over_their_limits(slack: FakeSlack, block: dict[str, Any]) -> None:
    post = {"channel": CHANNEL, "text": "x", "blocks": [block]}
    status, body = send(slack.api_url + "chat.postMessage", "POST", post, BEARER)
    assert (status, body["error"]) == (200, "invalid_blocks")
    assert slack.take_violations()
    assert not slack.messages(CHANNEL)


# -- GitLab -----------------------------------------------------------------------------------


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    with FakeGitLab() as fake:
        fake.add_project("acme/widgets")
        yield fake


def lab(fake: FakeGitLab, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    return send(fake.url + "/api/v4" + path, method, body, {"PRIVATE-TOKEN": DEFAULT_TOKEN})


def test_gitlab_refuses_a_missing_or_unknown_attribute(gitlab: FakeGitLab) -> None:
    path = "/projects/acme%2Fwidgets/merge_requests"
    status, body = lab(gitlab, "POST", path, {"title": "t", "source_branch": "f"})
    assert (status, body) == (400, {"error": "target_branch is missing"})
    status, body = lab(
        gitlab,
        "POST",
        path,
        {"title": "t", "source_branch": "f", "target_branch": "main", "draft": True},
    )
    assert (status, body) == (400, {"error": "draft is not an attribute GitLab takes here"})
    assert len(gitlab.take_violations()) == 2


def test_gitlab_refuses_unknown_states(gitlab: FakeGitLab) -> None:
    issue = gitlab.add_issue("acme/widgets", "Bug").iid
    status, body = lab(gitlab, "PUT", f"/projects/1/issues/{issue}", {"state_event": "merge"})
    assert (status, body) == (400, {"error": "state_event does not have a valid value"})
    status, body = lab(gitlab, "GET", "/projects/1/merge_requests?state=open")
    assert (status, body) == (400, {"error": "state does not have a valid value"})
    assert len(gitlab.take_violations()) == 2


def test_gitlab_records_a_path_no_manager_knows(gitlab: FakeGitLab) -> None:
    status, _ = lab(gitlab, "GET", "/projects/1/pulls")
    assert status == 404
    assert "managers know" in gitlab.take_violations()[0].problem
    assert lab(gitlab, "GET", "/version")[0] == 200  # allow-listed, with its reason
    assert not gitlab.take_violations()


# -- the suite's rule -------------------------------------------------------------------------

SWALLOWED = """
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.fakes.slack import FakeSlack


def test_an_error_our_code_swallows() -> None:
    with FakeSlack() as slack:
        try:
            WebClient(token="xoxb-1", base_url=slack.api_url).chat_update(channel="C1", ts=1.5)
        except SlackApiError:
            pass  # what a careless caller does: the test would pass without the rule
"""


def test_a_violation_fails_the_test_even_when_the_error_was_swallowed(tmp_path: Path) -> None:
    (tmp_path / "test_swallowed.py").write_text(SWALLOWED)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.fakes.violations",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 error" in done.stdout and "a fake received requests" in done.stdout
    assert "ts must be a string" in done.stdout
