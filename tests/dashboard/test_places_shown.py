"""The dashboard lists a session once, with all its places: a session started in Slack that
shipped a GitHub pull request shows its Slack thread and the pull request (with its link) on
the list row, on the session page and in the API. The real app, real jobs, real git, the
fake Slack and GitHub; the pages are read as a signed-in person reads them."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from redis import Redis

from bot.core.config import Settings
from bot.identity.people import Identity
from jobs.steps.context import JobContext
from tests.api.support import Api, person, token
from tests.conftest import MakeRepo, run_jobs
from tests.dashboard.test_every_surface import browser_for
from tests.fakes.github import FakeGitHub
from tests.fakes.slack import FakeSlack
from tests.slack.conftest import app_server, slack, slack_ctx, workspace  # noqa: F401
from tests.slack.support import (
    ALICE,
    CHANNEL,
    INTERVAL,
    SECRET,
    TEAM,
    TOKEN,
    AppServer,
    Workspace,
    session_of,
)

REPO = "octo/widgets"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake


@pytest.fixture
def slack_settings(settings: Settings, slack: FakeSlack, github: FakeGitHub) -> Settings:  # noqa: F811
    return settings.with_changes(
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=slack.api_url,
        slack_edit_interval=INTERVAL,
        slack_streaming=False,
        github_api_url=github.url,
        github_token=github.token,
        default_provider="github",
        forge_retries=2,
        forge_backoff=0.01,
    )


def places_in(cell: str) -> list[tuple[str | None, str]]:
    """(href, words) of each place in a list row's places cell or the page's places line."""
    found = re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>|<span>([^<]+)</span>', cell)
    return [(html.unescape(a) or None, html.unescape(w or s)) for a, w, s in found]


def test_a_slack_session_that_shipped_a_pr_shows_both_places_everywhere(
    workspace: Workspace,  # noqa: F811
    slack: FakeSlack,  # noqa: F811
    slack_ctx: JobContext,  # noqa: F811
    app_server: AppServer,  # noqa: F811
    slack_settings: Settings,
    github: FakeGitHub,
    redis: Redis,
    make_repo: MakeRepo,
) -> None:
    origin = make_repo(files={"README.md": "# Widgets\n"})
    github.add_repo(REPO, origin.as_uri(), permissions={"rob": "write"})
    assert workspace.slash(f"new {REPO} write notes.txt: <b>hi</b>").status == 200
    run_jobs(slack_ctx)
    (card,) = [m for m in slack.messages(CHANNEL) if not m.is_reply]
    session = session_of(slack_ctx, CHANNEL, card.ts)
    assert workspace.reply(card.ts, "ship it")[1].status == 200
    run_jobs(slack_ctx)
    [pull] = github.pulls(REPO)
    pr_url = slack_ctx.service.sessions.get(session.id).merge_request.url  # type: ignore[union-attr]
    assert pr_url.endswith(f"/pull/{pull.number}")
    both = [(None, "Slack thread"), (pr_url, f"GitHub PR #{pull.number}")]

    # The list: one row for the session, with both places; the title is escaped.
    alice = browser_for(app_server, slack_settings, redis, Identity.slack(TEAM, ALICE))
    listed = alice.get(f"{app_server.url}/dashboard/", timeout=30).text
    rows = re.findall(r"<tr>(.*?)</tr>", listed, re.S)
    assert len([r for r in rows if session.id in r]) == 1
    (row,) = [r for r in rows if session.id in r]
    assert "&lt;b&gt;hi&lt;/b&gt;" in row and "<b>hi" not in row
    (cell,) = re.findall(r'<ul class="places">(.*?)</ul>', row, re.S)
    assert places_in(cell) == both

    # The session page: the same places under its title.
    page = alice.get(f"{app_server.url}/dashboard/sessions/{session.id}", timeout=30).text
    (line,) = re.findall(r'<p class="meta muted places"[^>]*>(.*?)</p>', page, re.S)
    spans = re.sub(r'<span class="place[^"]*">', "", line).replace("</span>", "")
    pairs = re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>|(Slack thread)', spans)
    assert [(a or None, w or s) for a, w, s in pairs] == both

    # The API: the session and its list row carry the same places.
    secret, _ = token(redis, person(slack_settings, redis, "alice", Identity.slack(TEAM, ALICE)))
    api = Api(app_server.url, secret)
    got = api.get(f"/sessions/{session.id}")
    assert got.status_code == 200
    threads = got.json()["places"]["threads"]
    assert threads == [
        {"surface": "slack", "label": "Slack thread", "url": None, "home": True},
        {"surface": "github", "label": f"GitHub PR #{pull.number}", "url": pr_url, "home": False},
    ]
    listed_api = api.get("/sessions").json()["items"]
    assert [item["places"] for item in listed_api if item["id"] == session.id] == [threads]
