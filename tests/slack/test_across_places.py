"""One session, several places: a Slack session ships a pull request, and a prompt asked on
that pull request runs in the same session, shows its progress there, and the Slack thread
gets one line about it. The real app, real jobs, real git, the fake Slack and GitHub."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.core.config import Settings
from jobs.steps.context import JobContext
from tests.conftest import MakeRepo, git, run_jobs
from tests.fakes.github import FakeGitHub, webhook_request
from tests.fakes.github_graphql import GitHubGraphQL
from tests.fakes.slack import FakeSlack
from tests.slack.support import CHANNEL, AppServer, Workspace, session_of

SECRET = "github-hook-secret"
REPO = "octo/widgets"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake


@pytest.fixture
def slack_settings(slack_settings: Settings, github: FakeGitHub) -> Settings:
    return slack_settings.with_changes(
        github_api_url=github.url,
        github_token=github.token,
        github_webhook_secret=SECRET,
        default_provider="github",
        forge_retries=2,
        forge_backoff=0.01,
    )


def test_a_pr_comment_on_a_slack_session_runs_there_and_slack_hears_one_line(
    workspace: Workspace,
    slack: FakeSlack,
    slack_ctx: JobContext,
    app_server: AppServer,
    github: FakeGitHub,
    make_repo: MakeRepo,
) -> None:
    origin = make_repo(files={"README.md": "# Widgets\n"})
    repo = github.add_repo(REPO, origin.as_uri(), permissions={"rob": "write"})
    assert workspace.slash(f"new {REPO} write notes.txt: from slack").status == 200
    run_jobs(slack_ctx)
    (card,) = [m for m in slack.messages(CHANNEL) if not m.is_reply]
    session = session_of(slack_ctx, CHANNEL, card.ts)
    assert workspace.reply(card.ts, "ship it")[1].status == 200
    run_jobs(slack_ctx)
    [pull] = github.pulls(REPO)
    before = len(slack.messages(CHANNEL, card.ts))

    said = "@repobox append notes.txt: more"
    payload = github.issue_comment_payload(REPO, pull.number, said, user="rob")
    body, headers = webhook_request(payload, SECRET)
    assert app_server.request("/webhooks/github", body, headers).status == 202
    run_jobs(slack_ctx)

    # The same session: its workdir had notes.txt from the Slack prompt, and it pushed.
    place = f"{repo.id}:merge_request:{pull.number}"
    assert slack_ctx.service.sessions.find_by_thread("github", place) == (
        slack_ctx.service.sessions.get(session.id)
    )
    assert git("show", f"{session.work_branch}:notes.txt", cwd=origin) == "from slack\nmore\n"
    # Answered where it was asked: the progress comment and the mention on the pull request.
    answers = [c.body for c in github.comments(REPO, pull.number) if c.user == github.login]
    assert any("append notes.txt: more" in a for a in answers)
    assert answers[-1].startswith("@rob done in")
    # The Slack thread: one line, with a link, and not the run's progress.
    new = [m.visible_text for m in slack.messages(CHANNEL, card.ts)[before:]]
    line = f"rob asked on #{pull.number}: append notes.txt: more → running"
    assert new == [f"{line} (<{payload['comment']['html_url']}|open>)"], new

    # A prompt in a review thread: answered in that thread, and the thread resolved once the
    # change is pushed (no checks declared: nothing blocks). A thread it only read stays open.
    graphql = GitHubGraphQL(github)
    other = github.add_review_comment(REPO, pull.number, "nit: tabs?", user="rob", path="notes.txt")
    said = "@repobox append notes.txt: reviewed"
    payload = github.review_comment_payload(
        REPO, pull.number, said, user="rob", path="notes.txt", line=1
    )
    asked = payload["comment"]["id"]
    body, headers = webhook_request(payload, SECRET)
    assert app_server.request("/webhooks/github", body, headers).status == 202
    run_jobs(slack_ctx)
    assert git("show", f"{session.work_branch}:notes.txt", cwd=origin).endswith("reviewed\n")
    thread = [
        c.body
        for c in github.comments(REPO, pull.number, "review")
        if c.in_reply_to_id == asked and c.user == github.login
    ]
    assert thread and thread[-1].startswith("@rob done in"), thread
    assert graphql.is_resolved(asked) and not graphql.is_resolved(other.id)
